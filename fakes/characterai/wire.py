"""Small wire helpers shared by the REST and websocket handlers: ids, timestamps, error bodies."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

JsonDict = dict[str, Any]

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """The exact format the service emits (microseconds plus ``Z``); PyCharacterAI parses it with strptime."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


class IdFactory:
    """UUID4-shaped ids. With a seed the sequence is reproducible, so tests can assert exact frames."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def short(self, length: int = 8) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._rng.choice(alphabet) for _ in range(length))


def neo_error(
    request_id: str | None,
    comment: str,
    error_code: int = 400,
    sub_code: int | None = None,
    retry_after_seconds: float | None = None,
) -> JsonDict:
    return {
        "command": "neo_error",
        "request_id": request_id,
        "comment": comment,
        "error_code": error_code,
        "sub_code": sub_code,
        "retry_after_seconds": retry_after_seconds,
    }


def iter_json_objects(text: str) -> Iterator[Any]:
    """Split one websocket text frame into JSON values: concatenated (``{..}{..}``), newline- or
    whitespace-separated. Raises ``ValueError`` on garbage."""
    decoder = json.JSONDecoder()
    index = 0
    length = len(text)
    while True:
        while index < length and text[index] in " \t\r\n":
            index += 1
        if index >= length:
            return
        value, index = decoder.raw_decode(text, index)
        yield value


def parse_cookie_header(header: str) -> dict[str, str]:
    """Lenient cookie parsing: PyCharacterAI sends ``HTTP_AUTHORIZATION=Token k`` (a space, no quotes),
    which the stdlib cookie parser rejects; others send ``"Token k"`` quoted."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name.strip()] = value
    return cookies


def strip_token_prefix(value: str) -> str:
    value = value.strip()
    if value[:6].lower() == "token ":
        return value[6:].strip()
    return value


def text_or_none(value: object) -> str | None:
    """Clients send ``""`` for "not set" (CAINode); treat it like a missing field."""
    if isinstance(value, str) and value:
        return value
    return None


Clock = Callable[[], datetime]


def sub_dict(data: JsonDict, key: str) -> JsonDict:
    """``data[key]`` when it is an object, else ``{}`` (clients leave parts out)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
