"""What the NPC service hands an adapter: replies that say who speaks before any text exists, and notices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.models import ReplyEvent, Speaker


@dataclass
class NpcReply:
    """One NPC's reply: render it under ``speaker`` (Discord webhook name and avatar, Telegram bold prefix)
    and relay ``events`` (cumulative snapshots, then final or error) as usual. ``scene`` replies answer
    another NPC, not the user's message, so adapters should not quote the user's message for them."""

    speaker: Speaker
    events: AsyncIterator[ReplyEvent]
    scene: bool = False


NoticeKind = Literal["queued", "usage", "error"]


class NpcNotice(BaseModel):
    """A plain message to the user (not an NPC speaking): queued, a bad ``/npc``, or a failure before any
    NPC could speak."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    text: str


NpcItem = NpcReply | NpcNotice


def queued_text(ahead: int) -> str:
    others = "1 message" if ahead == 1 else f"{ahead} messages"
    return f"⏳ Your message is queued; {others} ahead of it."
