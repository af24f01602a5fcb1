"""The request handlers. Each validates its input with the schemas, calls the chat service, and serialises the
answer with the schemas again."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from aiohttp import web

from adapters.http.chat_requests import PreparedChat, prepare_chat
from adapters.http.conversations import Conversations
from adapters.http.errors import from_reply_error, internal_error
from adapters.http.parsing import conversation_ref, parse_body, parse_query
from adapters.http.schemas import (
    ApiModel,
    ChatBody,
    ChatData,
    ChatResponse,
    ContentEvent,
    ConversationListResponse,
    ConversationResponse,
    EndEvent,
    ErrorEvent,
    HistoryQuery,
    ListConversationsQuery,
    MessageResponse,
    StartEvent,
)
from adapters.http.sse import DeltaTracker, EventStream
from bot.door import Door
from bot.models import ReplyEvent, ReplyFinal

log = logging.getLogger("charbridge.http")

OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict[str, Any])


def json_response(model: ApiModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


async def _close(replies: AsyncIterator[ReplyEvent]) -> None:
    """Stop listening to a reply (the reply itself carries on upstream; see ChatService)."""
    if isinstance(replies, AsyncGenerator):
        await replies.aclose()


class ChatApi:
    def __init__(self, door: Door, max_body_bytes: int, upstream_retry_after: float, keepalive: float = 15.0) -> None:
        self._door = door
        self._keepalive = keepalive
        self._max_body = max_body_bytes
        self._retry_after = upstream_retry_after
        self._conversations = Conversations(door.conversations, upstream_retry_after)

    async def _prepare(self, request: web.Request) -> PreparedChat:
        body = await parse_body(request, ChatBody, self._max_body)
        return await prepare_chat(self._door, body)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        prepared = await self._prepare(request)
        replies = prepared.events
        final: ReplyFinal | None = None
        try:
            async for event in replies:
                if event.kind == "error":
                    raise from_reply_error(event, self._retry_after)
                if event.kind == "final":
                    final = event
        finally:
            await _close(replies)
        if final is None:  # the service always ends with a final or an error; be safe anyway
            raise RuntimeError("the reply ended without a final text")
        data = ChatData(
            response=final.text, conversation_id=prepared.conversation_id, preset=prepared.route.preset.name
        )
        return json_response(ChatResponse(data=data))

    async def chat_stream(self, request: web.Request) -> web.StreamResponse:
        prepared = await self._prepare(request)  # bad requests get a JSON error, before the stream starts
        stream = EventStream(request, self._keepalive)
        await stream.open()
        replies = prepared.events
        tracker = DeltaTracker()
        try:
            await stream.send(StartEvent(conversation_id=prepared.conversation_id))
            async for event in replies:
                if event.kind == "error":
                    await stream.send(ErrorEvent(error=from_reply_error(event, self._retry_after).body))
                    continue
                delta = tracker.delta(event.text)
                if delta:
                    await stream.send(ContentEvent(text=delta))
                if event.kind == "final":
                    await stream.send(EndEvent(response=event.text))
            await stream.close()
        except ConnectionResetError:
            log.info("HTTP API: a client left %s mid-reply; the reply still completes upstream", request.path)
        except Exception:  # the headers are sent: the error must travel as an event, not as a JSON response
            log.exception("HTTP API: %s failed mid-stream", request.path)
            with contextlib.suppress(ConnectionResetError):
                await stream.send(ErrorEvent(error=internal_error().body))
                await stream.close()
        finally:
            await stream.release()
            await _close(replies)
        return stream.response

    async def list_conversations(self, request: web.Request) -> web.StreamResponse:
        query = parse_query(request, ListConversationsQuery)
        data = await self._conversations.summaries(query)
        return json_response(ConversationListResponse(data=data))

    async def get_conversation(self, request: web.Request) -> web.StreamResponse:
        ref = conversation_ref(request)
        query = parse_query(request, HistoryQuery)
        data = await self._conversations.detail(ref, query.limit)
        return json_response(ConversationResponse(data=data))

    async def delete_conversation(self, request: web.Request) -> web.StreamResponse:
        await self._conversations.delete(conversation_ref(request))
        return json_response(MessageResponse(message="Conversation deleted"))

    async def clear_conversation(self, request: web.Request) -> web.StreamResponse:
        await self._conversations.clear(conversation_ref(request))
        return json_response(MessageResponse(message="Context cleared"))

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(request.app[OPENAPI_DOCUMENT])
