"""Reading and validating what a request sends: the body (size-limited, before anything is stored), the query
string and the conversation id in the path.

Bodies are UTF-8 JSON. JSON may escape lone UTF-16 surrogates ("\\ud800"), which no encoder accepts; they become
U+FFFD here, at the edge, so no such string reaches the core or the store.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.http.errors import invalid, not_found
from adapters.http.identity import ConversationRef, decode_conversation_id
from bot.text import clean_text

M = TypeVar("M", bound=BaseModel)

READ_CHUNK = 16 * 1024


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "Invalid request: " + "; ".join(parts)


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    too_large = invalid(f"The request body is larger than the limit of {max_bytes} bytes.", status=413)
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_chunked(READ_CHUNK):  # chunked uploads have no Content-Length
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def parse_body(request: web.Request, model: type[M], max_bytes: int) -> M:
    return decode_body(await read_body(request, max_bytes), model)


def decode_body(raw: bytes, model: type[M]) -> M:
    """The body as ``model``, or an INVALID_REQUEST error that says what is wrong with it."""
    if not raw.strip():
        raise invalid("The request body is empty; send a JSON object.")
    try:
        # The standard parser reads lone surrogate escapes (pydantic's refuses them); the cleaned value then goes
        # through pydantic's JSON validation as before, so the types and messages of JSON mode still apply.
        cleaned = json.dumps(_cleaned(json.loads(raw.decode("utf-8"))))
    except UnicodeDecodeError:
        raise invalid("Invalid request: the body is not UTF-8 encoded JSON.") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; RecursionError: nested too deep
        raise invalid(f"Invalid request: Invalid JSON: {exc}") from None
    try:
        return model.model_validate_json(cleaned)
    except ValidationError as exc:
        raise invalid(describe(exc)) from None


def _cleaned(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) made UTF-8 encodable."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _cleaned(item) for key, item in value.items()}
    return value


def parse_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise invalid(describe(exc)) from None


def conversation_ref(request: web.Request) -> ConversationRef:
    ref = decode_conversation_id(request.match_info["conversationId"])
    if ref is None:
        raise not_found()
    return ref
