"""Bot API errors: the HTTP status and description strings real Telegram sends.

PTB picks its exception class from the HTTP status (400 BadRequest, 403 Forbidden, 409 Conflict, 401/404
InvalidToken) or from ``parameters.retry_after`` (RetryAfter), so both must be right.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by a method handler; the server turns it into ``{"ok": false, ...}`` with ``status``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int | float) -> ApiError:
    shown = f"{retry_after:g}" if isinstance(retry_after, float) else str(retry_after)
    return ApiError(429, f"Too Many Requests: retry after {shown}", {"retry_after": retry_after})


UNAUTHORIZED = ApiError(401, "Unauthorized")
METHOD_NOT_FOUND = ApiError(404, "Not Found")

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
