"""Following the bot's messages as the platform shows them: every post and every edit becomes one event, in
the order they happened, so a reply can be drawn growing."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol

from sandbox.platform import ChatRef
from sandbox.world import SandboxWorld

FOLLOW_TIMEOUT = 3600.0  # only a bound for the fake's wait; following goes on until cancelled


def bot_label(speaker: str) -> str:
    return f"{speaker} (bot)"


@dataclass(frozen=True)
class Shown:
    """One text the platform showed: ``version`` 0 is the message as first posted, n its n-th edit.
    ``label`` is who it appears from, e.g. ``Captain Redbeard (bot)`` or ``Madame Zora (webhook)``."""

    chat: ChatRef
    message_id: str
    label: str
    version: int
    text: str
    previous: str | None


class Screen(Protocol):
    def show(self, shown: Shown) -> None: ...


@dataclass(frozen=True)
class _Pending:
    chat: ChatRef
    message_id: str
    author: str | None
    version: int
    text: str
    previous: str | None


class ReplyWatcher:
    """Watches the bot's messages in every chat the sandbox user has been to, on every platform."""

    def __init__(self, world: SandboxWorld, screen: Screen) -> None:
        self._world = world
        self._screen = screen
        self._chats: list[ChatRef] = []
        self._seen: dict[str, int] = {}  # message id -> versions already shown
        self._labels: dict[str, str] = {}  # message id -> who it appeared from when it was posted
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.shown = 0  # posts and edits shown so far

    def follow(self, chat: ChatRef) -> None:
        if chat not in self._chats:
            self._chats.append(chat)

    def _pending(self) -> list[_Pending]:
        found = []
        for chat in self._chats:
            for message in self._world.platform(chat.platform).bot_messages(chat):
                seen = self._seen.get(message.message_id, 0)
                for version in range(seen, len(message.versions)):
                    previous = message.versions[version - 1] if version else None
                    text = message.versions[version]
                    found.append(_Pending(chat, message.message_id, message.author, version, text, previous))
        return found

    async def _show(self, pending: list[_Pending]) -> None:
        for item in pending:
            label = self._labels.get(item.message_id)
            if label is None:
                # the platform's author, else the character the bot speaks as in that chat right now
                label = item.author or bot_label(await self._world.speaker(item.chat))
                self._labels[item.message_id] = label
            self._seen[item.message_id] = item.version + 1
            self.shown += 1
            self._screen.show(Shown(item.chat, item.message_id, label, item.version, item.text, item.previous))

    async def flush(self) -> None:
        """Show everything not shown yet, now."""
        async with self._lock:
            await self._show(self._pending())

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await self._world.wait_for(self._pending, FOLLOW_TIMEOUT)
            await self.flush()

    def start(self) -> None:
        """Show posts and edits as they happen (until ``stop``)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="sandbox-follow")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
