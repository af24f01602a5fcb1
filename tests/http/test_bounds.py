"""Paging bounds: the document states them, the API refuses what lies beyond them with a clear 400, and both
stores take everything within them (a page offset past SQLite's or Redis's 64-bit integers was a 500)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.http.schemas import MAX_OFFSET
from bot.ports import StateStore
from bot.store.redis import RedisStateStore
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import Served, StoreClock, StoreOpener, serve, sqlite_store


@pytest.fixture(params=["sqlite", "redis"])
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    opener: StoreOpener = sqlite_store
    if request.param == "redis":
        url = str(request.getfixturevalue("redis_url"))

        def opener(settings: Settings, clock: StoreClock) -> StateStore:
            return RedisStateStore(url, settings.storage.key_prefix, clock=clock)

    async with serve(tmp_path, ScriptedUpstream(), open_store=opener) as running:
        for user in ("alice", "bob"):
            assert (await running.api.chat("hi", user=user)).status == 200
        yield running


def _parameter(served: Served, name: str) -> dict[str, object]:
    operation = served.api.documented.document["paths"]["/api/conversations"]["get"]
    found: dict[str, object] = next(p for p in operation["parameters"] if p["name"] == name)
    return found


async def test_the_document_states_the_paging_bounds(served: Served) -> None:
    assert _parameter(served, "offset")["schema"] == {
        "type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "format": "int32"
    }
    limit = _parameter(served, "limit")["schema"]
    assert isinstance(limit, dict) and (limit["minimum"], limit["maximum"]) == (1, 100)


@pytest.mark.parametrize("filters", ["", "&userId=alice", "&groupId=team", "&userId=alice&groupId=team"])
async def test_every_store_takes_the_largest_offset_and_limit(served: Served, filters: str) -> None:
    reply = await served.api.call("GET", f"/api/conversations?offset={MAX_OFFSET}&limit=100{filters}")
    assert reply.status == 200, reply.body
    assert reply.body["data"]["conversations"] == []
    everything = await served.api.call("GET", f"/api/conversations?offset=0&limit=100{filters}")
    assert reply.body["data"]["total"] == everything.body["data"]["total"]


@pytest.mark.parametrize("offset", [MAX_OFFSET + 1, 2**63 - 1, 2**63, 2**64 + 1, 240000169429886205952])
@pytest.mark.parametrize("filters", ["", "&userId=alice"])
async def test_an_offset_beyond_the_bound_is_a_clear_400(served: Served, offset: int, filters: str) -> None:
    reply = await served.api.call("GET", f"/api/conversations?offset={offset}{filters}")
    assert reply.status == 400, reply.body
    assert reply.body["error"]["code"] == "INVALID_REQUEST"
    assert "offset" in reply.body["error"]["message"] and str(MAX_OFFSET) in reply.body["error"]["message"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", f"limit={2**63}", "offset=-1", f"offset=-{2**63}"])
async def test_other_out_of_range_paging_is_a_clear_400(served: Served, query: str) -> None:
    reply = await served.api.call("GET", f"/api/conversations?{query}")
    assert reply.status == 400 and reply.body["error"]["code"] == "INVALID_REQUEST"
    assert query.split("=")[0] in reply.body["error"]["message"]
