"""`charbridge run` as a real process the test starts, kills (SIGKILL) and starts again on the same state, with its
log per run; and the config sections the crash tests share."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.relay import PacingPolicy
from fakes.characterai import FakeCharacterAI
from tests.bridge_world import scaled_pacing

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0  # seconds: every wait for the bridge is this generous


def toml_table(name: str, values: Mapping[str, object]) -> str:
    lines = [f"[{name}]"]
    for key, value in values.items():
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, str | Path):
            value = f'"{value}"'
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def common_config(data_dir: Path, cai: FakeCharacterAI, recovery_wait: float) -> str:
    """The bridge, its store's data directory, Character.AI on the fake, and the preset "ada"."""
    bridge = {
        "data_dir": data_dir, "default_preset": "ada", "journal_text_interval": 0.05,
        "recovery_wait": recovery_wait, "recovery_poll": 0.1,
    }  # fmt: skip
    characterai = {
        "neo_url": cai.neo_url, "plus_url": cai.plus_url, "dm_ws_url": cai.ws_url, "room_ws_url": cai.room_ws_url,
        # a reply whose socket dropped is followed in the history (quickly) for as long as the test needs
        "recovery_interval": 0.05, "recovery_timeout": 120.0,
    }  # fmt: skip
    preset = '[[presets]]\nname = "ada"\ncharacter_id = "ada"\n'
    return toml_table("bridge", bridge) + toml_table("characterai", characterai) + preset


def pacing_table(name: str, policy: PacingPolicy, scale: float) -> str:
    return toml_table(name, scaled_pacing(policy, scale))


class BridgeProcess:
    """One bridge configuration, run as a separate process as often as the test likes (one log file per run)."""

    def __init__(self, workdir: Path, config: str, env: Mapping[str, str]) -> None:
        self._workdir = workdir
        self._config = workdir / "charbridge.toml"
        self._config.write_text(config)
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
        self._env.update(PYTHONPATH=str(ROOT), CHARBRIDGE_BRIDGE__LOG_LEVEL="DEBUG", **env)
        self.runs = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def log_path(self) -> Path:
        return self._workdir / f"bridge-{self.runs}.log"

    async def start(self, ready: str) -> None:
        """A new run; returns once its log shows ``ready``."""
        assert self._process is None or self._process.returncode is not None, "the bridge is running already"
        self.runs += 1
        with self.log_path.open("wb") as log:  # a file, not a pipe: DEBUG output must never stall the bridge
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "charbridge", "run", "--config", str(self._config),
                cwd=self._workdir, env=self._env, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        await self.logged(ready)

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self._process.wait(), WAIT)

    async def stop(self) -> None:
        """SIGTERM, as an operator stops it; it must exit cleanly."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self._process.wait(), WAIT)
        assert code == 0, self.log()

    async def close(self) -> None:
        if self._process is not None and self._process.returncode is None:
            await self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def logged(self, text: str) -> None:
        """Wait until this run's log shows ``text`` (the process ending first fails the test)."""
        assert self._process is not None
        async with asyncio.timeout(WAIT):
            # another process writes the file, so there is no event to await: poll it
            while text not in await asyncio.to_thread(self.log):
                assert self._process.returncode is None, f"the bridge exited:\n{self.log()}"
                await asyncio.sleep(0.05)
