"""Every port contract runs against both implementations: the SQLite store and the Redis store on a real
redis-server (``tests/conftest.py`` starts one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.redis import RedisStateStore
from bot.store.sqlite import SqliteStateStore
from tests.core.contracts.stores import StoreFactory, StoreUnderTest, VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: VirtualClock) -> StoreFactory:
    """A factory, so a test can close the store and open a new one on the same data."""
    if request.param == "sqlite":
        return lambda: SqliteStateStore(tmp_path / "state.sqlite3", clock=clock)
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStateStore(url, prefix="test:", clock=clock)


@pytest.fixture
async def opened(make_store: StoreFactory) -> AsyncIterator[StoreUnderTest]:
    under_test = StoreUnderTest(make_store)
    yield under_test
    await under_test.close()
