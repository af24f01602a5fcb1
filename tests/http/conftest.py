from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.http.support import World, running_api


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_api(tmp_path) as running:
        yield running
