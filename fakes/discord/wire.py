"""HTTP responses the way discord.py needs them: exact `application/json`, Discord's error shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

JSON_TYPE = "application/json"

# JSON error codes used by the fake (docs: opcodes-and-status-codes)
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
TOO_MANY_WEBHOOKS = 30007
ALREADY_ACKNOWLEDGED = 40060
EMPTY_MESSAGE = 50006
MISSING_PERMISSIONS = 50013
CANNOT_EDIT_OTHERS_MESSAGE = 50005
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
INVALID_CHANNEL_TYPE = 50024


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A raw response with `Content-Type: application/json` exactly (json_response adds a charset)."""
    response = web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)
    response.headers["Content-Type"] = JSON_TYPE
    return response


def no_content(headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=204, headers=headers)


class DiscordError(Exception):
    """Raised by handlers; the middleware turns it into Discord's `{code, message, errors}` body."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unauthorized() -> DiscordError:
    return DiscordError(401, 0, "401: Unauthorized")


def not_found(code: int, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def missing_permissions() -> DiscordError:
    return DiscordError(403, MISSING_PERMISSIONS, "Missing Permissions")


def form_error(field_path: list[str | int], error_code: str, message: str) -> DiscordError:
    """400/50035 with the nested `errors` tree Discord builds for one bad field."""
    tree: dict[str, Any] = {"_errors": [{"code": error_code, "message": message}]}
    for part in reversed(field_path):
        tree = {str(part): tree}
    return DiscordError(400, INVALID_FORM_BODY, "Invalid Form Body", tree)


def too_long(field_path: list[str | int], limit: int) -> DiscordError:
    return form_error(field_path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
