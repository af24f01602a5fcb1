"""NPC replies as one plain reply-event stream, for callers that cannot show several identities (the HTTP
API, any adapter that does not know NPCs): each reply is prefixed with its speaker's name, replies are
joined by a blank line, and the final names the speaker when only one spoke."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.models import ReplyError, ReplyEvent, ReplyFinal, ReplySnapshot
from bot.npc.items import NpcItem, NpcNotice

NOBODY = ReplyError(code="not_addressed", message="None of the characters here was addressed.")
SEPARATOR = "\n\n"


async def flatten(items: AsyncIterator[NpcItem]) -> AsyncIterator[ReplyEvent]:
    done: list[str] = []
    speakers: list[str] = []
    async for item in items:
        if isinstance(item, NpcNotice):
            if item.kind == "queued":
                continue
            yield ReplyError(code="npc_" + item.kind, message=item.text)
            return
        prefix = f"{item.speaker.name}: "
        async for event in item.events:
            if isinstance(event, ReplySnapshot):
                yield ReplySnapshot(text=SEPARATOR.join([*done, prefix + event.text]))
            elif isinstance(event, ReplyFinal):
                done.append(prefix + event.text)
                speakers.append(item.speaker.name)
            else:
                yield event
                return
    if not done:
        yield NOBODY
        return
    yield ReplyFinal(text=SEPARATOR.join(done), speaker=speakers[0] if len(set(speakers)) == 1 else None)
