"""Mapping of Character.AI failures (neo_error frames, HTTP statuses, transport errors) to UpstreamError, and
redaction so a token never reaches an exception text or a log line."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.upstream.base import ErrorCode, UpstreamError

LOGGER_NAME = "charbridge.characterai"
log = logging.getLogger(LOGGER_NAME)

REDACTED = "[redacted]"
# "Token <key>" in any header, cookie or message; also a bare Authorization / cookie value.
_TOKEN_PATTERNS = (
    re.compile(r"(Token\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(HTTP_AUTHORIZATION=\"?(?:Token\s+)?)[^\s\"';,]+", re.IGNORECASE),
)
_FILTER_COMMANDS = {
    "filter_user_input_self_harm": "self harm message detected",
    "filter_user_input": "input filtered",
}


def redact(text: str, secret: str | None = None) -> str:
    if secret:
        text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


class RedactTokens(logging.Filter):
    """Put on a logger whose records may carry headers (the websockets handshake log at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def wire_logger() -> logging.Logger:
    """The logger handed to the websockets library: its DEBUG handshake lines include the cookie."""
    logger = logging.getLogger(f"{LOGGER_NAME}.wire")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
    return logger


def from_status(status: int, code: ErrorCode | None = None) -> ErrorCode:
    if code is not None:
        return code
    if status in (401, 403):
        return ErrorCode.AUTH
    if status == 404:
        return ErrorCode.NOT_FOUND
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status == 408:
        return ErrorCode.TIMEOUT
    if 400 <= status < 500:
        return ErrorCode.INVALID
    return ErrorCode.UNAVAILABLE


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def neo_error(frame: dict[str, Any], what: str, server_error: ErrorCode = ErrorCode.MODEL) -> UpstreamError:
    """A ``neo_error`` (websocket frame or REST body) as an UpstreamError.

    A 5xx ``error_code`` in a frame on a healthy socket is the model failing on this message, not the service
    being down: ``server_error`` is MODEL then (REST passes UNAVAILABLE). Only transport, upgrade and auth
    failures make the character "unavailable"."""
    comment = str(frame.get("comment") or frame.get("error") or "no comment")
    status = frame.get("error_code")
    sub_code = frame.get("sub_code")
    retry_after = _number(frame.get("retry_after_seconds"))
    if retry_after is not None:
        code = ErrorCode.RATE_LIMITED
    elif "self harm" in comment.lower() or "filter" in comment.lower() or str(sub_code) == "101":
        code = ErrorCode.FILTERED
    elif isinstance(status, int) and status >= 500:
        code = server_error
    elif isinstance(status, int):
        code = from_status(status)
    else:
        code = ErrorCode.INVALID
    detail = f"{what}: Character.AI said {comment!r} (error_code={status}, sub_code={sub_code})"
    return UpstreamError(code, redact(detail), retry_after=retry_after)


def filter_frame(command: str, what: str) -> UpstreamError | None:
    """The input-filter frames that replace a reply."""
    if command in _FILTER_COMMANDS:
        return UpstreamError(ErrorCode.FILTERED, f"{what}: {_FILTER_COMMANDS[command]} ({command})")
    return None


def http_error(status: int, body: str, what: str, retry_after: float | None = None) -> UpstreamError:
    """A non-2xx REST answer. neo errors are JSON with a ``comment``; Cloudflare / CSRF blocks are HTML."""
    snippet = redact(" ".join(body.split())[:200])
    if status == 403 and snippet.lstrip().startswith("<"):
        return UpstreamError(
            ErrorCode.UNAVAILABLE,
            f"{what}: HTTP 403 with an HTML page (blocked by Cloudflare or CSRF?): {snippet[:120]}",
        )
    if status == 401:
        return UpstreamError(ErrorCode.AUTH, f"{what}: HTTP 401, the Character.AI token is invalid or expired")
    return UpstreamError(from_status(status), f"{what}: HTTP {status}: {snippet}", retry_after=retry_after)


def transport_error(exc: BaseException, what: str) -> UpstreamError:
    if isinstance(exc, TimeoutError):
        return UpstreamError(ErrorCode.TIMEOUT, f"{what}: timed out")
    return UpstreamError(ErrorCode.UNAVAILABLE, redact(f"{what}: {type(exc).__name__}: {exc}"))
