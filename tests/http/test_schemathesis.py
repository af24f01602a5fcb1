"""schemathesis against a real running HTTP API, on the test world's core and store over a fast scripted backend.

Every phase (examples, coverage, fuzzing, then stateful sequences that follow the document's links) and every
check schemathesis has (no 5xx, documented statuses, content types, headers and bodies, SSE events included,
valid data accepted, invalid data refused, auth enforced, 405 with Allow for undeclared methods, a deleted
conversation gone, a created one reachable, ...). Deterministic (derandomized, fixed seed) and bounded: at most
150 examples per operation and 80 scenarios of up to 6 calls (about half a minute on 2 cores).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.generation.stateful.state_machine import DEFAULT_STATE_MACHINE_SETTINGS

from tests.http.support import KEYS
from tests.http.threaded import served_in_thread

EXAMPLES_PER_OPERATION = 150
SCENARIOS = 80
STEPS_PER_SCENARIO = 6
AUTH = {"Authorization": f"Bearer {KEYS[0]}"}


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 19,
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
            "auth": {"openapi": {"bearerAuth": {"bearer": KEYS[0]}}},
            "request-timeout": 20,
        }
    )


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("schemathesis")
    # The rate limit stays on, too high to be reached: a 429 would hide everything else.
    with served_in_thread(path, rate_limit_per_minute=10**9) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> Any:
    return schemathesis.openapi.from_url(api_url + "/api/openapi.json", config=fuzz_config())


def forget_every_conversation(base_url: str) -> None:
    """Through the API itself: each scenario starts from the same (empty) state, so that the same generated
    steps meet the same answers (Hypothesis requires it when it replays a failure)."""
    while True:
        listed = requests.get(base_url + "/api/conversations", params={"limit": 100}, headers=AUTH, timeout=20)
        listed.raise_for_status()
        conversations = listed.json()["data"]["conversations"]
        if not conversations:
            return
        for conversation in conversations:
            url = f"{base_url}/api/conversations/{conversation['id']}"
            requests.delete(url, headers=AUTH, timeout=20).raise_for_status()


# (Naming the operations keeps GET /api/openapi.json in: schemathesis leaves out the document's own operation
# unless a filter selects it.)
lazy_schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="^/api/")


def test_schemathesis_sees_every_documented_operation(api_schema: Any, api_url: str) -> None:
    document = requests.get(api_url + "/api/openapi.json", timeout=20).json()
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    selected = api_schema.include(path_regex="^/api/").get_all_operations()
    assert {result.ok().label for result in selected} == documented


@lazy_schema.parametrize()
@hypothesis.settings(deadline=None, derandomize=True, database=None)
def test_every_operation_passes_every_check(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_the_stateful_phase_passes_every_check(api_schema: Any, api_url: str) -> None:
    links = api_schema.statistic.transitions
    assert links.total >= 3, "the document links POST /api/chat to the conversation it names"

    class Scenario(api_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            forget_every_conversation(api_url)

    Scenario.run(
        settings=hypothesis.settings(
            DEFAULT_STATE_MACHINE_SETTINGS,  # what schemathesis's own runner uses: no shrinking, no health checks
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            derandomize=True,
            database=None,
        )
    )
