"""Which messages show which part of a reply, and what has to change to show a new text (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic

from bot.relay.sink import Handle
from bot.relay.split import SplitPart, plan_split


@dataclass
class ShownMessage(Generic[Handle]):
    handle: Handle
    text: str
    final: bool  # its last update was a final one (the sink may have formatted it)


@dataclass(frozen=True)
class Update:
    """One platform call: ``send`` when ``index`` is past the last message, otherwise an edit."""

    index: int
    text: str
    final: bool
    send: bool
    part: SplitPart
    offset: int  # where the part's source slice starts in the whole text is offset + part.start


@dataclass
class Layout(Generic[Handle]):
    max_length: int
    messages: list[ShownMessage[Handle]] = field(default_factory=list)
    first_open: int = 0  # messages before this one are given up (kept as they are)
    offset: int = 0  # the text before this offset lives in given-up messages

    @property
    def visible(self) -> bool:
        return bool(self.messages)

    def updates(self, text: str, final: bool) -> list[Update]:
        """The calls, in order, that make the messages show ``text`` (no call for blank parts: they are
        whitespace only, which the platforms would not show anyway)."""
        parts = [part for part in plan_split(text[self.offset :], self.max_length) if not part.blank]
        pending: list[Update] = []
        for number, part in enumerate(parts):
            index = self.first_open + number
            frozen = final or number < len(parts) - 1
            if index >= len(self.messages):
                pending.append(Update(index, part.text, frozen, True, part, self.offset))
                continue
            shown = self.messages[index]
            if shown.text != part.text or (frozen and not shown.final):
                pending.append(Update(index, part.text, frozen, False, part, self.offset))
        return pending

    def resume(self, handles: Iterable[Handle]) -> None:
        """Messages that exist already, showing what is not known (so each gets edited)."""
        self.messages.extend(ShownMessage(handle, "", False) for handle in handles)

    def applied(self, update: Update, handle: Handle | None = None) -> None:
        if update.send:
            assert handle is not None and update.index == len(self.messages)
            self.messages.append(ShownMessage(handle, update.text, update.final))
        else:
            shown = self.messages[update.index]
            shown.text, shown.final = update.text, update.final

    def give_up(self, update: Update) -> None:
        """The message of this edit cannot be changed any more: keep what it shows and continue the
        rest of the text in a new message."""
        shown = self.messages[update.index]
        part = update.part
        carried = 0  # how much of the part's source slice the stuck message already shows
        if update.text.startswith(shown.text) and len(shown.text) >= len(part.prefix):
            carried = min(len(shown.text) - len(part.prefix), part.end - part.start)
        self.first_open = update.index + 1
        self.offset = update.offset + part.start + carried

    def shown_texts(self) -> list[str]:
        return [message.text for message in self.messages]

    def handles(self) -> list[Handle]:
        return [message.handle for message in self.messages]
