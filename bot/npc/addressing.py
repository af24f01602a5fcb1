"""Which cast members a message is for. A pure function of the request, the cast and two facts the caller
looked up (the last speaker, the NPC whose message is being answered).

In order of precedence:

1. ``/npc <name> <text>``: that character (an unknown name is a problem to show, not a silent drop);
2. a reply to an NPC's message: that NPC;
3. names in the text (whole words, any case): each named NPC, in the order they are named;
4. otherwise, when the message is for the bot at all (a DM, a mention, a reply to the bot, ``/chat``, or
   a preset answering every message), the preset's fallback: ``room`` lets the group room choose,
   ``last_speaker`` gives it to whoever spoke last (the first of the cast when nobody has), ``none``
   leaves it unanswered. ``room`` without a group room behaves as ``last_speaker``.

Messages written by the cast itself are never addressed to it (the loop guard; scenes are driven by the
service, never by NPC messages coming back in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.models import ChatRequest, NpcCharacter
from bot.npc.cast import by_id, leading_name, named_in
from bot.text import clip

NPC_COMMAND = "npc"
NPC_USAGE = "/npc <name> <message>"

Fallback = Literal["room", "last_speaker", "none"]
Reason = Literal["command", "reply", "name", "fallback"]


class Addressing(BaseModel):
    """Who answers and what they are told. ``targets`` is empty when the room chooses the speaker."""

    model_config = ConfigDict(frozen=True)

    targets: tuple[NpcCharacter, ...] = ()
    room_choice: bool = False
    text: str
    reason: Reason


class AddressProblem(BaseModel):
    """A ``/npc`` command that cannot be carried out; ``message`` is shown to the user."""

    model_config = ConfigDict(frozen=True)

    message: str


def cast_names(cast: Sequence[NpcCharacter]) -> str:
    return ", ".join(npc.name for npc in cast) or "nobody"


def for_the_bot(request: ChatRequest, trigger: str) -> bool:
    return (
        request.is_dm or request.mentions_bot or request.reply_to_bot or request.command == "chat" or trigger == "all"
    )


def address(
    request: ChatRequest,
    cast: Sequence[NpcCharacter],
    *,
    last_speaker: str | None = None,
    replied_to: str | None = None,
    from_cast: bool = False,
    fallback: Fallback = "last_speaker",
    room: bool = False,
    trigger: str = "mention",
) -> Addressing | AddressProblem | None:
    """The addressing of ``request`` (None: no cast member answers it).

    ``last_speaker`` and ``replied_to`` are character ids (the NPC that spoke last here; the NPC that wrote
    the message being replied to); ``from_cast`` says the request itself is one of the cast's messages.
    """
    if from_cast or not cast:
        return None
    if request.command == NPC_COMMAND:
        return _command(request, cast)
    text = request.text.strip()
    if not text:
        return None
    replied = by_id(cast, replied_to)
    if replied is not None:
        return Addressing(targets=(replied,), text=text, reason="reply")
    named = named_in(cast, text)
    if named:
        return Addressing(targets=tuple(named), text=text, reason="name")
    if not for_the_bot(request, trigger) or fallback == "none":
        return None
    if fallback == "room" and room:
        return Addressing(room_choice=True, text=text, reason="fallback")
    speaker = by_id(cast, last_speaker) or cast[0]
    return Addressing(targets=(speaker,), text=text, reason="fallback")


def _command(request: ChatRequest, cast: Sequence[NpcCharacter]) -> Addressing | AddressProblem:
    found = leading_name(cast, request.text)
    if found is None:
        given = request.text.split(maxsplit=1)[0] if request.text.strip() else ""
        why = f"No character named '{clip(given)}' here." if given else "Say which character."
        return AddressProblem(message=f"{why} The cast: {cast_names(cast)}.\nUsage: {NPC_USAGE}")
    npc, text = found
    if not text:
        return AddressProblem(message=f"What should {npc.name} hear?\nUsage: {NPC_USAGE}")
    return Addressing(targets=(npc,), text=text, reason="command")
