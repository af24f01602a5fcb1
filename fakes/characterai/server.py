"""``FakeCharacterAI``: one aiohttp server speaking plus + neo REST, the DM socket and the room socket."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, Literal

from aiohttp import WSCloseCode, web

from fakes.characterai.characters import DEMO_CHARACTERS, FakeCharacter
from fakes.characterai.control import add_control_routes, world_snapshot
from fakes.characterai.dm_socket import dm_socket
from fakes.characterai.faults import Fault, FaultKind
from fakes.characterai.keys import SOCKETS_KEY, WORLD_KEY
from fakes.characterai.rest_chats import add_chat_routes
from fakes.characterai.rest_common import rest_middleware
from fakes.characterai.rest_rooms import add_room_routes
from fakes.characterai.room_socket import room_socket
from fakes.characterai.settings import FakeSettings
from fakes.characterai.state import Conversation, FakeUser, Room
from fakes.characterai.wire import Clock, JsonDict, utc_now
from fakes.characterai.world import FakeWorld, ReceivedMessage, filler_text

# 40 characters like a real key, and obviously not one
DEFAULT_TOKEN = "test-token-00000000000000000000000000000"
DEFAULT_USER = FakeUser(user_id=424242, username="sandbox-user", name="Sandbox User")


class FakeCharacterAI:
    """See the package docstring for the full API."""

    def __init__(
        self,
        characters: Iterable[FakeCharacter] | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        user: FakeUser = DEFAULT_USER,
        users: dict[str, FakeUser] | None = None,
        settings: FakeSettings | None = None,
        seed: int | None = None,
        clock: Clock = utc_now,
        **setting_overrides: Any,
    ) -> None:
        base = settings or FakeSettings()
        merged = FakeSettings.model_validate({**base.model_dump(), **setting_overrides})
        all_users = {token: user, **(users or {})}
        chosen = list(DEMO_CHARACTERS) if characters is None else list(characters)
        self.token = token
        self.user = user
        self.world = FakeWorld(chosen, all_users, merged, seed, clock)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

    # ----- lifecycle -----

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[rest_middleware])
        app[WORLD_KEY] = self.world
        app[SOCKETS_KEY] = set()
        app.router.add_get("/ws/", dm_socket)
        app.router.add_get("/ws", dm_socket)
        app.router.add_get("/connection/websocket", room_socket)
        add_control_routes(app)
        add_chat_routes(app)
        add_room_routes(app)
        app.on_shutdown.append(self._close_sockets)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.world.stopping = False
        self.world.stalls_released.clear()
        self._runner = web.AppRunner(self.make_app(), shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host = host
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self.world.stopping = True
        self.world.stalls_released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.world.stop_background()

    async def __aenter__(self) -> FakeCharacterAI:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _close_sockets(self, app: web.Application) -> None:
        self.world.stalls_released.set()
        sockets: set[web.WebSocketResponse] = app[SOCKETS_KEY]
        for ws in list(sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    # ----- addresses (one server answers for neo, plus and character.ai) -----

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def neo_url(self) -> str:
        return self.base_url

    @property
    def plus_url(self) -> str:
        return self.base_url

    @property
    def ws_url(self) -> str:
        return f"ws://{self._host}:{self.port}/ws/"

    @property
    def room_ws_url(self) -> str:
        return f"ws://{self._host}:{self.port}/connection/websocket"

    # ----- configuration -----

    @property
    def settings(self) -> FakeSettings:
        return self.world.settings

    def configure(self, **changes: Any) -> FakeSettings:
        """Change settings at run time, e.g. ``configure(chunk_chars=4, snapshot_delay=0.01)``."""
        self.world.settings = FakeSettings.model_validate({**self.world.settings.model_dump(), **changes})
        return self.world.settings

    def add_character(self, character: FakeCharacter) -> None:
        self.world.characters[character.id] = character

    def add_user(self, token: str, user: FakeUser) -> None:
        self.world.users_by_token[token] = user

    def script_reply(self, character_id: str, text: str | None = None, *, length: int | None = None) -> None:
        """Queue the exact text of the next reply of a character (DM or room, new turn or regeneration);
        ``length=N`` queues a deterministic text of exactly N characters."""
        if (text is None) == (length is None):
            raise ValueError("give exactly one of text or length")
        if character_id not in self.world.characters:
            raise KeyError(character_id)
        self.world.script_reply(character_id, text if text is not None else filler_text(length or 0))

    def inject(self, fault: Fault | FaultKind, **options: Any) -> Fault:
        """Queue a fault: ``inject("drop", after_snapshots=2)`` or ``inject(Fault(...))``."""
        model = fault if isinstance(fault, Fault) else Fault.model_validate({"kind": fault, **options})
        self.world.faults.add(model)
        return model

    def clear_faults(self) -> None:
        self.world.faults.clear()

    def release_stalls(self) -> None:
        self.world.release_stalls()

    # ----- inspection -----

    @property
    def counters(self) -> dict[str, int]:
        """Counts of what happened; ``dm_generation_overlaps`` and ``dm_generations_peak`` are always there."""
        return {"dm_generation_overlaps": 0, "dm_generations_peak": 0, **self.world.counters}

    @property
    def room_violations(self) -> int:
        return self.world.counters["room_violations"]

    def received(
        self, channel: Literal["dm", "room", "rest"] | None = None, command: str | None = None
    ) -> list[ReceivedMessage]:
        return [m for m in self.world.received if channel in (None, m.channel) and command in (None, m.command)]

    def chat(self, chat_id: str) -> Conversation:
        return self.world.conversations[chat_id]

    def chats(self) -> list[Conversation]:
        return [c for c in self.world.conversations.values() if c.kind == "dm"]

    def room(self, room_id: str) -> Room:
        return self.world.rooms[room_id]

    def dm_sockets(self) -> list[JsonDict]:
        """Every DM connection so far: ``socket`` number, ``user_id``, ``open``, generations ``in_flight`` now,
        ``generations`` in all, and the ``peak`` in flight at once."""
        return [link.to_wire() for link in self.world.dm_links]

    def room_subscribers(self, room_id: str) -> int:
        return len(self.world.hub.subscribers(f"room:{room_id}"))

    def state(self) -> JsonDict:
        return world_snapshot(self.world)
