"""Reading and validating what a request sends: the body (size-limited, before anything is stored), the query
string and the conversation id in the path."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.http.errors import invalid, not_found
from adapters.http.identity import ConversationRef, decode_conversation_id

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
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        raise invalid("The request body is empty; send a JSON object.")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(describe(exc)) from None


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
