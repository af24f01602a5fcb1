"""What the sandbox needs of one chat platform (its fake server plus the real adapter on it)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from adapters.base import PlatformAdapter, build_adapter
from bot.core import Core
from bot.models import ChatRequest
from config.settings import Settings

T = TypeVar("T")

PlaceKind = Literal["private", "group"]


class SandboxError(Exception):
    """Something the sandbox user asked for that cannot be done; the text is shown to them as is."""


class RealAdapter:
    """The product's own adapter for one platform, built as ``charbridge run`` builds it, on the sandbox's core."""

    def __init__(self, platform: str) -> None:
        self._platform = platform
        self._core: Core | None = None
        self._adapter: PlatformAdapter | None = None

    async def start(self, core: Core, settings: Settings) -> None:
        self._core = core
        self._adapter = build_adapter(self._platform, settings, core.door)
        await self._adapter.start()

    async def stop(self) -> None:
        if self._adapter is not None:
            with contextlib.suppress(Exception):
                await self._adapter.stop()
            self._adapter = None

    async def drain(self) -> None:
        """Wait for replies still running upstream."""
        if self._core is not None:
            await self._core.drain()


def channel_name(group: str) -> str:
    """A group's name as a Discord text channel's: lower case, dashes for spaces."""
    return "-".join(group.lower().split())


@dataclass(frozen=True)
class Place:
    """Where the sandbox user is typing: their private chat with the bot, or a group by name."""

    kind: PlaceKind
    group: str = ""

    def describe(self, user: str) -> str:
        return f"private chat of {user}" if self.kind == "private" else f"group {self.group!r}"

    def short(self, user: str) -> str:
        return "private" if self.kind == "private" else self.group


@dataclass(frozen=True)
class ChatRef:
    """One chat on one platform, as the sandbox tracks it (a private chat belongs to one user)."""

    platform: str
    user: str  # whose private chat; "" for groups
    place: Place

    @staticmethod
    def of(platform: str, user: str, place: Place) -> ChatRef:
        return ChatRef(platform, user if place.kind == "private" else "", place)

    def describe(self) -> str:
        if self.platform == "discord":
            private = self.place.kind == "private"
            return f"Discord DM of {self.user}" if private else f"Discord #{channel_name(self.place.group)}"
        return self.place.describe(self.user)


@dataclass(frozen=True)
class BotMessage:
    """A message the bot posted, with every text it has shown (the first post, then each edit).

    ``author`` is how the platform labels it (e.g. ``Madame Zora (webhook)``); None means the bot itself,
    speaking as the character that answers in the chat."""

    message_id: str
    versions: tuple[str, ...]
    author: str | None = None


class SandboxPlatform(Protocol):
    name: str

    @property
    def bot_handle(self) -> str:
        """How users address the bot in a group, e.g. ``@CharBridgeBot``."""

    async def start(self, core: Core, settings: Settings) -> None:
        """Start the real adapter against the (already running) fake."""

    async def stop(self) -> None:
        """Stop the adapter, then the fake."""

    def place_label(self, user: str, place: Place) -> str:
        """The place in the prompt, e.g. ``private`` or ``Tavern``."""

    def place_description(self, place: Place) -> str:
        """The place in a sentence, e.g. ``their private chat with @CharBridgeBot``."""

    async def enter(self, user: str, place: Place) -> None:
        """Make sure ``user`` exists and can write in ``place`` (joining the group if needed)."""

    async def set_admin(self, user: str, admin: bool) -> str:
        """Give ``user`` the platform's admin rights (or take them away); returns what changed, in a line."""

    async def send(self, user: str, place: Place, text: str, *, reply_to_bot: bool = False) -> None:
        """Post ``text`` as ``user``; ``reply_to_bot`` answers the bot's latest message there."""

    def bot_messages(self, chat: ChatRef) -> list[BotMessage]: ...

    def request_for(self, chat: ChatRef) -> ChatRequest:
        """A request as if written in ``chat`` (to ask the router which character answers there)."""

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        """The first truthy ``predicate()``, re-checked whenever the fake's state changes."""

    async def settle(self, quiet: float) -> None:
        """Wait until every message sent so far is fully answered (the bot then stays silent ``quiet`` s)."""

    def counters(self) -> list[str]:
        """The platform's request counters, one line each."""
