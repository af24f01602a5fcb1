"""A client that sends its request headers slowly (or stops halfway) is disconnected after
``http.header_timeout_seconds``, so slow-header connections cannot pile up. Raw sockets, since no HTTP client
sends that badly on purpose."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import HttpApiSettings
from tests.http.support import running_api

TIMEOUT = 2.0  # the configured header timeout (the shortest the test rules allow)
PATIENCE = 30.0  # how long the test waits for the server to hang up before calling it a failure
REQUEST = b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before it closed the connection (b"" for nothing)."""
    with contextlib.suppress(ConnectionResetError):
        return await reader.read()
    return b""


async def test_a_request_line_that_never_ends_is_closed(tmp_path: Path) -> None:
    async with running_api(tmp_path, header_timeout_seconds=TIMEOUT) as world:
        reader, writer = await asyncio.open_connection("127.0.0.1", world.adapter.port)
        try:
            writer.write(b"GET /api/openapi.js")
            await writer.drain()
            async with asyncio.timeout(PATIENCE):
                assert await _closed_by_server(reader) == b""
        finally:
            writer.close()


async def test_headers_sent_byte_by_byte_are_cut_off(tmp_path: Path) -> None:
    # The whole request would take about 60 s to trickle in; the server hangs up long before the end.
    headers = REQUEST + b"X-Padding: " + b"x" * 1200 + b"\r\n\r\n"
    async with running_api(tmp_path, header_timeout_seconds=TIMEOUT) as world:
        reader, writer = await asyncio.open_connection("127.0.0.1", world.adapter.port)
        sent = 0

        async def trickle() -> None:
            nonlocal sent
            with contextlib.suppress(ConnectionError):
                for byte in headers:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    sent += 1
                    await asyncio.sleep(0.05)  # the slow client's pace, not a wait for the server

        trickler = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(PATIENCE):
                answer = await _closed_by_server(reader)
            assert answer == b"" and sent < len(headers), "the server waited for the whole slow request"
        finally:
            trickler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trickler
            writer.close()


async def test_a_prompt_client_is_answered_and_may_reuse_its_connection(tmp_path: Path) -> None:
    async with running_api(tmp_path, header_timeout_seconds=TIMEOUT) as world:
        reader, writer = await asyncio.open_connection("127.0.0.1", world.adapter.port)
        try:
            for _ in range(2):  # a kept-alive connection serves a second request too
                writer.write(REQUEST + b"\r\n")
                await writer.drain()
                async with asyncio.timeout(PATIENCE):
                    status = await reader.readline()
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = next(
                        int(line.split(b":")[1]) for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    )
                    await reader.readexactly(length)
                assert status.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()


def test_the_header_timeout_is_a_positive_setting_of_ten_seconds_by_default() -> None:
    assert HttpApiSettings().header_timeout_seconds == 10.0
    assert HttpApiSettings(header_timeout_seconds=2.5).header_timeout_seconds == 2.5
    for wrong in (0, -1):
        with pytest.raises(ValidationError, match="header_timeout_seconds"):
            HttpApiSettings(header_timeout_seconds=wrong)
