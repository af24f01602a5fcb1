"""aiohttp's own log of the requests it refuses before any handler runs (a malformed request line or header, a
header line over 8 KiB, a broken chunked body): it answers them with 400 and logs an ERROR with a traceback. Any
client can send those, so they become one warning line here, without the request's bytes (which may hold a key)."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"


class MalformedRequests(logging.Filter):
    """Turns aiohttp's report of a malformed request into one warning line; other records pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        if not isinstance(failure, HttpProcessingError) or not 400 <= failure.code < 500:
            return True
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "HTTP API: refused a malformed request from %s (%s)"
        record.args = (peer, type(failure).__name__)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True
