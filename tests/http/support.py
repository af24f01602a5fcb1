"""A running HTTP API over a real socket, and a client that checks every response against the API's own OpenAPI
document (fetched over HTTP), so the document stays true for everything the tests do."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp_sse_client2 import client as sse_client  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from adapters.http.adapter import HttpAdapter
from bot.core import Core
from bot.models import Preset
from bot.ports import StateStore
from bot.store.sqlite import SqliteStateStore
from bot.upstream.base import Upstream
from charbridge.app import sqlite_path
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream

KEYS = ["test-key-alpha", "test-key-bravo"]
PRESETS = [
    Preset(name="ada", character_id="ada"),
    Preset(name="bob", character_id="bob"),
    Preset(name="kira", character_id="kira", scope="user"),
]


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StoreClock:
    """The store's clock (epoch seconds). Each reading moves it on by ``tick``, so what the store times (when a
    conversation was last active) follows the order things happened in, never the real time."""

    def __init__(self, now: float = 1_767_225_600.0, tick: float = 0.001) -> None:
        self.now = now
        self.tick = tick

    def __call__(self) -> float:
        reading = self.now
        self.now += self.tick
        return reading


StoreOpener = Callable[[Settings, StoreClock], StateStore]


def sqlite_store(settings: Settings, clock: StoreClock) -> StateStore:
    """The embedded store in the data directory, where ``charbridge run`` keeps it."""
    return SqliteStateStore(sqlite_path(settings), clock=clock)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


def _schema_at(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The document's refs point at "#/components/...": give the schema the document's components as its root.
    root = {"components": document["components"], **schema}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


class DocumentedApi:
    """Finds the operation a request hit and the schema its response must match."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._patterns = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), path) for path in document["paths"]
        ]

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, template in self._patterns:
            if pattern.match(path):
                found: dict[str, Any] | None = self.document["paths"][template].get(method.lower())
                return found
        return None

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        operation = self.operation(method, path)
        if operation is None:
            return  # not an API route (e.g. the 404 test); nothing documented to compare with
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {path} answered {status}, which is not documented"
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        _schema_at(self.document, schema).validate(body)

    def check_event(self, data: Any) -> None:
        operation = self.operation("POST", "/api/chat/stream")
        assert operation is not None
        schema = operation["responses"]["200"]["content"]["text/event-stream"]["x-event-data-schema"]
        _schema_at(self.document, schema).validate(data)


class ApiClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, documented: DocumentedApi) -> None:
        self.session = session
        self.base_url = base_url
        self.documented = documented

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = KEYS[0],
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        async with self.session.request(
            method, self.base_url + path, json=json_body, data=data, headers=sent
        ) as response:
            body = await response.json(content_type=None)
            self.documented.check(method, path.split("?")[0], response.status, body)
            return Reply(response.status, body, response.headers)

    async def chat(self, message: str, user: str = "alice", **fields: Any) -> Reply:
        return await self.call("POST", "/api/chat", json_body={"message": message, "userId": user, **fields})

    async def stream(self, message: str, user: str = "alice", key: str = KEYS[0], **fields: Any) -> list[Any]:
        """The events of /api/chat/stream, read by a standard SSE client, each checked against the document."""
        events: list[Any] = []
        async with asyncio.timeout(20), sse_client.EventSource(
            self.base_url + "/api/chat/stream",
            option={"method": "POST"},
            session=self.session,
            max_connect_retry=0,
            headers={"Authorization": f"Bearer {key}"},
            json={"message": message, "userId": user, **fields},
        ) as source:
            async for event in source:
                data = json.loads(event.data)
                self.documented.check_event(data)
                events.append(data)
                if data["type"] in ("end", "error"):
                    break
        return events


def make_settings(
    tmp_path: Path,
    *,
    presets: list[Preset] = PRESETS,
    default_preset: str | None = None,
    http: dict[str, Any] | None = None,
) -> Settings:
    values: dict[str, Any] = {
        "presets": presets,
        "bridge": {"default_preset": default_preset, "data_dir": tmp_path},
        "http": http or {},
    }
    return Settings(**values)


@dataclass
class Served:
    core: Core
    adapter: HttpAdapter
    api: ApiClient
    clock: ManualClock
    store_clock: StoreClock


@dataclass
class World(Served):
    upstream: ScriptedUpstream


@asynccontextmanager
async def serve(
    tmp_path: Path,
    upstream: Upstream | None,
    *,
    presets: list[Preset] = PRESETS,
    default_preset: str | None = "ada",
    open_store: StoreOpener = sqlite_store,
    **http: Any,
) -> AsyncIterator[Served]:
    """The core over ``upstream`` (None: no backend configured) with the store ``open_store`` gives (SQLite in
    ``tmp_path`` by default), and the HTTP API in front of it on 127.0.0.1 (an ephemeral port)."""
    settings = make_settings(
        tmp_path,
        presets=presets,
        default_preset=default_preset,
        http={"enabled": True, "port": 0, "api_keys": KEYS, "rate_limit_per_minute": 1000, **http},
    )
    store_clock = StoreClock()
    upstreams = {"characterai": upstream} if upstream is not None else {}
    core = Core(settings, open_store(settings, store_clock), upstreams)
    clock = ManualClock()
    adapter = HttpAdapter(settings, core.door, clock=clock, upstream_retry_after=7)
    await core.start()
    await adapter.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(adapter.url + "/api/openapi.json") as response:
                document = await response.json()
            api = ApiClient(session, adapter.url, DocumentedApi(document))
            yield Served(core, adapter, api, clock, store_clock)
    finally:
        await adapter.stop()
        await core.close()


@asynccontextmanager
async def running_api(
    tmp_path: Path, *, default_preset: str | None = "ada", chunk: int = 4, pause: float = 0.0, **http: Any
) -> AsyncIterator[World]:
    upstream = ScriptedUpstream(chunk=chunk, pause=pause)
    async with serve(tmp_path, upstream, default_preset=default_preset, **http) as served:
        yield World(served.core, served.adapter, served.api, served.clock, served.store_clock, upstream)


async def store_snapshot(core: Core, conversations: list[str]) -> dict[str, Any]:
    """Everything the store holds that a request could have written (for "nothing stored" checks)."""
    store = core.store
    records, total = await store.list_conversations(limit=1000)
    return {
        "records": [r.model_dump() for r in records],
        "total": total,
        "bindings": [b.model_dump() for b in await store.list_bindings()],
        "audit": [a.model_dump() for a in await store.list_audit(limit=1000)],
        "chats": {c: await store.list_chat_ids(c) for c in conversations},
    }
