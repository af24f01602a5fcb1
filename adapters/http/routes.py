"""The route table: the single list both the server (adapter.py) and the OpenAPI document (openapi.py) are built
from, so every served route is documented and every documented route is served."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from adapters.http import schemas
from adapters.http.handlers import ChatApi

ApiHandler = Callable[[ChatApi, web.Request], Awaitable[web.StreamResponse]]

CONVERSATION = "/api/conversations/{conversationId}"


@dataclass(frozen=True)
class RouteSpec:
    name: str  # the OpenAPI operationId and the aiohttp route name
    method: str
    path: str
    summary: str
    handler: ApiHandler
    response: type[BaseModel] | None  # the 200 JSON body (for a stream: each event's data); None: any object
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()  # statuses besides the ones every authenticated route can give
    auth: bool = True
    stream: bool = False

    @property
    def statuses(self) -> list[int]:
        found = set(self.errors)
        if self.auth:
            found |= {401, 429, 500, 503}  # 503: also while the state store cannot be reached
        if self.body is not None:
            found |= {400, 413}
        if self.query is not None:
            found.add(400)
        if "{conversationId}" in self.path:
            found.add(404)
        return sorted(found)


UPSTREAM_ERRORS = (400, 429, 502, 503)
PRESET_ERRORS = (404, 409)  # the named preset does not exist; the conversation talks to another one

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        name="chat",
        method="POST",
        path="/api/chat",
        summary="Send a message and get the character's complete reply",
        handler=ChatApi.chat,
        response=schemas.ChatResponse,
        body=schemas.ChatBody,
        errors=UPSTREAM_ERRORS + PRESET_ERRORS,
    ),
    RouteSpec(
        name="chatStream",
        method="POST",
        path="/api/chat/stream",
        summary="Send a message and stream the reply as Server-Sent Events",
        handler=ChatApi.chat_stream,
        response=schemas.StreamEvent,
        body=schemas.ChatBody,
        errors=PRESET_ERRORS,
        stream=True,
    ),
    RouteSpec(
        name="listConversations",
        method="GET",
        path="/api/conversations",
        summary="List conversations, most recently active first",
        handler=ChatApi.list_conversations,
        response=schemas.ConversationListResponse,
        query=schemas.ListConversationsQuery,
    ),
    RouteSpec(
        name="getConversation",
        method="GET",
        path=CONVERSATION,
        summary="A conversation with its latest messages (from the character's backend)",
        handler=ChatApi.get_conversation,
        response=schemas.ConversationResponse,
        query=schemas.HistoryQuery,
        errors=(502, 503),
    ),
    RouteSpec(
        name="deleteConversation",
        method="DELETE",
        path=CONVERSATION,
        summary="Forget a conversation",
        handler=ChatApi.delete_conversation,
        response=schemas.MessageResponse,
    ),
    RouteSpec(
        name="clearConversation",
        method="POST",
        path=CONVERSATION + "/clear",
        summary="Start the conversation afresh with the same character (a new chat upstream)",
        handler=ChatApi.clear_conversation,
        response=schemas.MessageResponse,
        errors=UPSTREAM_ERRORS,
    ),
    RouteSpec(
        name="openapi",
        method="GET",
        path="/api/openapi.json",
        summary="This API's OpenAPI 3.1 document",
        handler=ChatApi.openapi,
        response=None,
        auth=False,
    ),
)


def public_route_names() -> set[str]:
    return {spec.name for spec in ROUTES if not spec.auth}


def add_routes(app: web.Application, api: ChatApi) -> None:
    for spec in ROUTES:
        handler = spec.handler

        async def handle(request: web.Request, handler: ApiHandler = handler) -> web.StreamResponse:
            return await handler(api, request)

        app.router.add_route(spec.method, spec.path, handle, name=spec.name)
