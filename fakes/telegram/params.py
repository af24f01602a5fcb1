"""Decoding Bot API request parameters from every encoding Telegram accepts.

PTB sends ``application/x-www-form-urlencoded`` where strings go raw and everything else is JSON-encoded
into the field; calls without parameters have no body at all. Telegram also accepts the query string,
``application/json`` and ``multipart/form-data``, so all four are merged here (body wins over query).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import ApiError, bad_request


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


async def decode_request(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = dict(request.query)
    content_type = request.content_type
    if not request.can_read_body:
        return values
    if content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                decoded = json.loads(raw)
            except ValueError as exc:
                raise bad_request("can't parse JSON encoded request body") from exc
            if not isinstance(decoded, dict):
                raise bad_request("JSON request body must be an object")
            values.update(decoded)
    elif content_type.startswith("multipart/"):
        values.update(await _read_multipart(request))
    else:
        # form-urlencoded, or a body without Content-Type that still looks like a form
        form = await request.post()
        values.update({key: value for key, value in form.items() if isinstance(value, str)})
    return values


async def _read_multipart(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            values[part.name] = UploadedFile(
                part.filename, part.headers.get("Content-Type"), bytes(await part.read())
            )
        else:
            values[part.name] = await part.text()
    return values


class Params:
    """Typed access to decoded parameters; values may be raw strings (form) or JSON values (JSON body)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def required_str(self, name: str) -> str:
        value = self.string(name)
        if value is None:
            raise bad_request(f"parameter \"{name}\" is required")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(float(value)) if isinstance(value, float) else int(str(value).strip())
        except ValueError as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def required_int(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(f"parameter \"{name}\" is required")
        return value

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def json_value(self, name: str) -> Any:
        """A value that PTB JSON-encodes into the form (lists, objects); JSON bodies already decoded it."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise bad_request(f"can't parse {name} JSON object") from exc
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError as exc:
            raise bad_request("chat not found") from exc


def require(condition: bool, error: ApiError) -> None:
    if not condition:
        raise error
