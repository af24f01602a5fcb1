"""API errors: one exception type, the mapping from the chat service's reply errors, and the middleware that
turns every failure (ours, aiohttp's routing, unexpected bugs) into the JSON error shape."""

from __future__ import annotations

import logging
import math

from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.http.schemas import ErrorBody, ErrorCodeName, ErrorResponse
from bot.models import ReplyError

log = logging.getLogger("charbridge.http")

STATUS: dict[ErrorCodeName, int] = {
    "INVALID_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "CONVERSATION_NOT_FOUND": 404,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "MODEL_ERROR": 502,
    "CHANNEL_UNAVAILABLE": 503,
}

# The chat service's ReplyError codes (bot.upstream.base.ErrorCode plus the service's own). CHANNEL_UNAVAILABLE:
# no backend can serve the request (down, not configured, or our credentials refused: the operator must act).
# Anything not listed is a MODEL_ERROR: the backend took the request but could not produce a reply.
REPLY_CODES: dict[str, ErrorCodeName] = {
    "auth": "CHANNEL_UNAVAILABLE",
    "unavailable": "CHANNEL_UNAVAILABLE",  # also a preset whose backend is not configured
    "rate_limited": "RATE_LIMITED",
    "model_error": "MODEL_ERROR",  # bot.upstream.base.ErrorCode.MODEL: up, but the model failed this reply
    "no_preset": "INVALID_REQUEST",
}

NO_PRESET_MESSAGE = (
    'No character is set up for this conversation: pass "preset" with the name of a configured preset '
    "(or ask the operator to set bridge.default_preset)."
)


class ApiError(Exception):
    def __init__(
        self,
        code: ErrorCodeName,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCodeName = code
        self.message = message
        self.status = status if status is not None else STATUS[code]
        self.reason = reason
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))

    @property
    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, reason=self.reason, retry_after=self.retry_after)

    def response(self) -> web.Response:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return web.json_response(
            ErrorResponse(error=self.body).model_dump(mode="json"), status=self.status, headers=headers
        )


def invalid(message: str, status: int = 400) -> ApiError:
    return ApiError("INVALID_REQUEST", message, status=status)


def not_found() -> ApiError:
    return ApiError("CONVERSATION_NOT_FOUND", "No such conversation.")


def internal_error() -> ApiError:
    return ApiError("INTERNAL_ERROR", "Something went wrong on our side; please try again.")


def from_reply_error(error: ReplyError, upstream_retry_after: float) -> ApiError:
    code = REPLY_CODES.get(error.code, "MODEL_ERROR")
    message = NO_PRESET_MESSAGE if error.code == "no_preset" else error.message
    # The backend's own hint when it gave one, else the configured default.
    retry_after = (error.retry_after or upstream_retry_after) if code == "RATE_LIMITED" else None
    return ApiError(code, message, reason=error.code, retry_after=retry_after)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        # aiohttp's own: no such route, method not allowed, body too large for its parser...
        if exc.status < 400:
            raise
        return invalid(_describe(exc, request), status=exc.status).response()
    except Exception:
        log.exception("HTTP API: %s %s failed", request.method, request.path)
        return internal_error().response()


def _describe(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == 404:
        return f"There is no {request.path} here; see /api/openapi.json."
    if exc.status == 405:
        return f"{request.method} is not allowed on {request.path}; see /api/openapi.json."
    return exc.reason
