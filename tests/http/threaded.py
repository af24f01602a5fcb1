"""The HTTP API world (support.running_api) served from its own event loop in a background thread, for clients
that block (schemathesis calls the API through ``requests``). ``served_in_thread`` yields the API's base URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.http.support import running_api

START_TIMEOUT = 30.0


@contextmanager
def served_in_thread(tmp_path: Path, **http: Any) -> Iterator[str]:
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        found["stop"] = (asyncio.get_running_loop(), stop)
        try:
            async with running_api(tmp_path, **http) as world:
                found["url"] = world.adapter.url
                ready.set()
                await stop.wait()
        finally:
            ready.set()  # also when starting failed, so the test does not wait in vain

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the test below
            found["error"] = exc

    thread = threading.Thread(target=run, name="http-api-world", daemon=True)
    thread.start()
    try:
        if not ready.wait(START_TIMEOUT) or "url" not in found:
            raise RuntimeError(f"the HTTP API did not start: {found.get('error')!r}")
        yield found["url"]
    finally:
        if "stop" in found:
            loop, stop = found["stop"]
            loop.call_soon_threadsafe(stop.set)
        thread.join(START_TIMEOUT)
        if "error" in found:
            raise found["error"]
