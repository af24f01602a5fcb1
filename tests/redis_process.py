"""A redis-server of the test's own, which the test really stops (the process exits) and starts again on the same
port and data directory, so what was stored before the outage is there after it.

The session's shared redis-server (``tests/conftest.py``) must never go down; outage tests use this one.
"""

from __future__ import annotations

import asyncio
import shutil
from asyncio.subprocess import DEVNULL, Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio as aredis

from tests.conftest import free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


class RedisProcess:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server); .ci/run installs it")
        self._binary = binary
        self.workdir = workdir
        self.port = free_port()
        self._proc: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start redis-server (AOF on, written at every command: nothing is lost by a stop) and wait until it
        answers."""
        assert self._proc is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc = await asyncio.create_subprocess_exec(
            self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", stdout=DEVNULL, stderr=DEVNULL,
        )  # fmt: skip
        client = aredis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    if self._proc.returncode is not None:
                        pytest.fail(f"redis-server exited at start (status {self._proc.returncode})")
                    try:
                        await client.ping()
                        return
                    except (aredis.ConnectionError, aredis.BusyLoadingError):
                        await asyncio.sleep(0.025)  # polling the condition "it answers"
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Stop redis-server for real: SIGTERM (it finishes writing its data and exits), and wait for the exit."""
        proc, self._proc = self._proc, None
        assert proc is not None, "not running"
        proc.terminate()
        async with asyncio.timeout(STOP_TIMEOUT):
            status = await proc.wait()
        assert status == 0, f"redis-server exited with status {status}"

    async def close(self) -> None:
        if self._proc is not None:
            await self.stop()


@asynccontextmanager
async def running_redis(workdir: Path) -> AsyncIterator[RedisProcess]:
    server = RedisProcess(workdir)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
