"""Telegram streaming benchmark: our relay against two naive baselines, on the fakes with flood control on.

    python bench/streaming.py                 # the full workload (about 1-2 minutes)
    python bench/streaming.py --quick         # a smaller one (well under a minute)
    python bench/streaming.py --time-scale 0.5 --strategy relay --json figures.json

Prints 429s, penalties, time to first visible text, time from the upstream final to the visible final and
edits per reply, for each strategy. Figures are in real-equivalent seconds. Exits non-zero only if it crashes.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import render
from bench.workload import FULL, QUICK, STRATEGIES, StrategyName, StrategyRun, Workload, run_strategy


async def run_benchmark(workload: Workload, strategies: tuple[StrategyName, ...] = STRATEGIES) -> list[StrategyRun]:
    """Every strategy on the same workload, one after the other, each on fresh fakes."""
    runs = []
    for strategy in strategies:
        print(f"running {strategy} ...", file=sys.stderr, flush=True)
        runs.append(await run_strategy(strategy, workload))
    return runs


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller workload")
    parser.add_argument("--time-scale", type=float, help="measured seconds per real second (default 0.25, quick 0.1)")
    parser.add_argument("--strategy", action="append", choices=STRATEGIES, help="run only this one (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    workload = QUICK if args.quick else FULL
    if args.time_scale is not None:
        workload = Workload.model_validate({**workload.model_dump(), "time_scale": args.time_scale})
    strategies = tuple(args.strategy) if args.strategy else STRATEGIES
    runs = asyncio.run(run_benchmark(workload, strategies))
    print(render(workload, runs))
    if args.json is not None:
        payload = {"workload": workload.model_dump(), "runs": [run.model_dump() for run in runs]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
