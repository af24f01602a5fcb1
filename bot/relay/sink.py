"""The small interface each platform adapter implements so the relay can put a reply on screen."""

from __future__ import annotations

from typing import Protocol, TypeVar

Handle = TypeVar("Handle")


class ReplySink(Protocol[Handle]):
    """One reply's way onto one platform destination. See the package docstring for the contract."""

    @property
    def destination(self) -> str:
        """The key of the rate-limit bucket this reply writes into (a chat, a channel, a webhook)."""
        ...

    @property
    def max_length(self) -> int:
        """The longest text one message may hold."""
        ...

    async def send(self, text: str, *, final: bool) -> Handle:
        """Post a new message (the first part, or a continuation part) and return its handle."""
        ...

    async def edit(self, handle: Handle, text: str, *, final: bool) -> None:
        """Replace the text of a message this sink sent."""
        ...

    async def typing(self) -> None:
        """Show the typing indicator once (the relay repeats the call while it is needed)."""
        ...
