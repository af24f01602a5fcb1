"""Driving the core's door from tests the way an adapter without identities would: one plan, as plain reply
events (a ``Say`` becomes one final or error, a cast's replies are flattened, a ``Skip`` yields nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.door import Door
from bot.models import ChatRequest, ReplyError, ReplyEvent, ReplyFinal
from bot.npc import NpcItem, NpcNotice, Ticket, flatten
from bot.plans import Cast, Say, Stream


async def plan_events(door: Door, request: ChatRequest) -> AsyncIterator[ReplyEvent]:
    plan = await door.handle(request)
    match plan:
        case Stream():
            async for event in plan.events:
                yield event
        case Cast():
            async for event in flatten(plan.items):
                yield event
        case Say(error=str(code)):
            yield ReplyError(code=code, message=plan.text)
        case Say():
            yield ReplyFinal(text=plan.text if plan.greeting is None else f"{plan.text}\n\n{plan.greeting}")


async def cast_items(door: Door, request: ChatRequest, ticket: Ticket | None = None) -> AsyncIterator[NpcItem]:
    """A cast's answer through the door: its items, or the door's own answer as a usage notice."""
    plan = await door.handle(request, ticket)
    match plan:
        case Cast():
            async for item in plan.items:
                yield item
        case Say():
            yield NpcNotice(kind="usage", text=plan.text)
