"""The ReplyJournal contract: an entry is kept from its opening until it is closed, its progress is rewritten as the
reply goes on, a closed entry never comes back, recoveries are counted, and all of it survives a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.models import ReplyRecord, ReplyTarget
from bot.ports import ReplyJournal
from tests.core.contracts.stores import StoreUnderTest

OPENED = datetime(2026, 1, 1, tzinfo=UTC)


def entry(reply_id: str, owner: str = "telegram:7", minutes: int = 0, **fields: object) -> ReplyRecord:
    return ReplyRecord.model_validate(
        {
            "reply_id": reply_id,
            "owner": owner,
            "run": "run-1",
            "conversation": "telegram:-100",
            "who": "*",
            "preset": "ada",
            "prompt": "hello there",
            "target": ReplyTarget(platform="telegram", chat="-100", reply_to="41", extra={"guild": "g"}),
            "render": {"policy": "group"},
            "opened_at": OPENED + timedelta(minutes=minutes),
            **fields,
        }
    )


async def test_an_entry_is_kept_with_its_progress_until_it_is_closed(opened: StoreUnderTest) -> None:
    journal: ReplyJournal = opened.store
    first = entry("telegram:-100:41")
    await journal.open_reply(first)
    assert await journal.open_replies("telegram:7") == [first]
    assert await journal.note_reply("telegram:-100:41", ["501"], "Once upon", final=False)
    assert await journal.note_reply("telegram:-100:41", ["501", "502"], "Once upon a time.", final=True)

    again: ReplyJournal = await opened.reopen()  # a restart: everything written is still there
    [kept] = await again.open_replies("telegram:7")
    assert kept == first.model_copy(update={"parts": ["501", "502"], "text": "Once upon a time.", "final": True})
    assert kept.target.extra == {"guild": "g"} and kept.render == {"policy": "group"}

    assert await again.close_reply("telegram:-100:41") is True
    assert await again.close_reply("telegram:-100:41") is False  # closed once only
    assert await again.open_replies("telegram:7") == []
    # a late note cannot bring a closed entry back, nor can a recovery claim it
    assert await again.note_reply("telegram:-100:41", ["501"], "Once", final=False) is False
    assert await again.claim_reply("telegram:-100:41") is None
    assert await again.open_replies("telegram:7") == []
    assert await again.note_reply("never-opened", [], "", final=False) is False


async def test_entries_are_listed_per_owner_oldest_first(opened: StoreUnderTest) -> None:
    journal: ReplyJournal = opened.store
    await journal.open_reply(entry("b", minutes=2))
    await journal.open_reply(entry("a", minutes=5))
    await journal.open_reply(entry("c", minutes=1))
    await journal.open_reply(entry("d", owner="discord:9"))
    assert [r.reply_id for r in await journal.open_replies("telegram:7")] == ["c", "b", "a"]
    assert [r.reply_id for r in await journal.open_replies("discord:9")] == ["d"]
    assert await journal.open_replies("telegram:8") == []
    await journal.close_reply("b")
    assert [r.reply_id for r in await journal.open_replies("telegram:7")] == ["c", "a"]


async def test_reopening_an_entry_replaces_it(opened: StoreUnderTest) -> None:
    journal: ReplyJournal = opened.store
    await journal.open_reply(entry("a"))
    await journal.note_reply("a", ["1"], "partial", final=False)
    await journal.open_reply(entry("a", prompt="again", minutes=3))
    [kept] = await journal.open_replies("telegram:7")
    assert (kept.prompt, kept.parts, kept.text, kept.final, kept.attempts) == ("again", [], "", False, 0)


async def test_recoveries_are_counted(opened: StoreUnderTest) -> None:
    journal: ReplyJournal = opened.store
    await journal.open_reply(entry("a"))
    await journal.note_reply("a", ["1"], "partial", final=False)
    first = await journal.claim_reply("a")
    assert first is not None and (first.attempts, first.parts, first.text) == (1, ["1"], "partial")
    again: ReplyJournal = await opened.reopen()
    second = await again.claim_reply("a")
    assert second is not None and second.attempts == 2
    [listed] = await again.open_replies("telegram:7")
    assert listed.attempts == 2


async def test_of_two_concurrent_closes_exactly_one_closes(opened: StoreUnderTest) -> None:
    """The live reply ending and a recovery finishing it may race: only one of them may act as the closer."""
    journal: ReplyJournal = opened.store
    for number in range(20):
        await journal.open_reply(entry(f"r{number}"))
    results = await asyncio.gather(*(journal.close_reply(f"r{n // 2}") for n in range(40)))
    assert results.count(True) == 20
    assert await journal.open_replies("telegram:7") == []
