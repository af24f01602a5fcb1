"""The reply journal's own logic (``bot.journal``), on in-memory ports and a virtual clock: what a live reply writes
down, and how a restart chooses and shows the ending of a reply left open. The real thing (killed processes, both
stores, the fakes) is tests/e2e/test_reply_journal*.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from bot.journal import INTERRUPTED, Journal, JournalOptions, Place, Reopened
from bot.journal.recovery import NO_TRACE, answer_in
from bot.models import ChatRequest, Preset, ReplyError, ReplyEvent, ReplyFinal, ReplyRecord, ReplySnapshot, ReplyTarget
from bot.ports import EVERYONE, ChatIdStore, PresetStore, ReplyJournal
from bot.presets import PresetCatalog
from bot.relay import Budgets, PacingPolicy, VirtualClock, error_notice
from bot.router import Route
from bot.upstream.base import HistoryTurn
from tests.core.scripted_upstream import ScriptedUpstream
from tests.relay.doubles import FakeChat, scripted

RULES = PacingPolicy(
    destination_limit=100, destination_window=1.0, global_limit=100,
    min_interval=1.0, max_interval=10.0, min_growth=0, typing_interval=4.0, idle_timeout=30.0,
)  # fmt: skip
ADA = Preset(name="ada", character_id="ada")
ROUTE = Route(conversation="telegram:-100", who=EVERYONE, preset=ADA, bound=True)
TARGET = ReplyTarget(platform="telegram", chat="-100", reply_to="41")
NOTICE = error_notice(INTERRUPTED)


class Memory(ReplyJournal, ChatIdStore, PresetStore):
    """The ports the journal uses, in memory (their real implementations pass tests/core/contracts)."""

    def __init__(self) -> None:
        self.entries: dict[str, ReplyRecord] = {}
        self.chats: dict[tuple[str, str], str] = {}
        self.fail = False

    async def open_reply(self, record: ReplyRecord) -> None:
        if self.fail:
            raise ConnectionError("the store is down")
        self.entries[record.reply_id] = record

    async def note_reply(self, reply_id: str, parts: list[str], text: str, final: bool) -> bool:
        if self.fail:
            raise ConnectionError("the store is down")
        found = self.entries.get(reply_id)
        if found is not None:
            self.entries[reply_id] = found.model_copy(update={"parts": parts, "text": text, "final": final})
        return found is not None

    async def claim_reply(self, reply_id: str) -> ReplyRecord | None:
        found = self.entries.get(reply_id)
        if found is None:
            return None
        self.entries[reply_id] = found.model_copy(update={"attempts": found.attempts + 1})
        return self.entries[reply_id]

    async def close_reply(self, reply_id: str) -> bool:
        return self.entries.pop(reply_id, None) is not None

    async def open_replies(self, owner: str) -> list[ReplyRecord]:
        return [record for record in self.entries.values() if record.owner == owner]

    async def get_chat_id(self, conversation: str, who: str) -> str | None:
        return self.chats.get((conversation, who))

    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None:
        self.chats[(conversation, who)] = chat_id

    async def clear_chat_ids(self, conversation: str) -> int:
        return 0

    async def list_chat_ids(self, conversation: str) -> dict[str, str]:
        return {}

    async def get_preset(self, name: str) -> Preset | None:
        return None

    async def put_preset(self, preset: Preset) -> None: ...

    async def delete_preset(self, name: str) -> bool:
        return False

    async def list_presets(self) -> list[Preset]:
        return []


class History(ScriptedUpstream):
    """A backend whose history the test writes (oldest first), counting the look-ups."""

    def __init__(self, turns: list[HistoryTurn]) -> None:
        super().__init__()
        self.turns = turns
        self.looks = 0

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        self.looks += 1
        return self.turns[-limit:]


def user(text: str) -> HistoryTurn:
    return HistoryTurn(turn_id=f"u-{text}", author_name="ann", is_human=True, text=text)


def character(text: str, final: bool = True) -> HistoryTurn:
    return HistoryTurn(turn_id=f"c-{text}", author_name="Ada", is_human=False, text=text, final=final)


class Restorer:
    owner = "telegram:7"

    def __init__(self, chat: FakeChat, budgets: Budgets, *, anew: bool = False) -> None:
        self.chat, self.budgets, self.anew = chat, budgets, anew

    async def reopen(self, record: ReplyRecord) -> Reopened[Any] | None:
        return Reopened(self.chat.sink(), decode=int, encode=str, policy=RULES, budgets=self.budgets, anew=self.anew)


class Bridge:
    """One run of the bridge's core: its journal on the shared memory, a chat, and the backend."""

    def __init__(self, memory: Memory, backend: History, clock: VirtualClock, chat: FakeChat) -> None:
        options = JournalOptions(text_interval=2.0, recovery_wait=10.0, recovery_poll=1.0, recovery_attempts=2)
        catalog = PresetCatalog(memory, [ADA])
        self.journal = Journal(memory, memory, catalog, {"characterai": backend}, options, clock)
        self.budgets = Budgets.for_policy(RULES, clock)
        self.restorer = Restorer(chat, self.budgets)


def world(turns: list[HistoryTurn] | None = None) -> tuple[Memory, History, VirtualClock, FakeChat]:
    memory, clock = Memory(), VirtualClock()
    memory.chats[(ROUTE.conversation, EVERYONE)] = "chat-1"
    return memory, History(turns or []), clock, FakeChat(clock, max_length=40)


def request() -> ChatRequest:
    return ChatRequest(
        platform="telegram", conversation_id="telegram:-100", user_id="telegram:1", user_name="Ann", is_dm=False,
        text="hello there", message_id="telegram:-100:41", target=TARGET,
    )  # fmt: skip


def words(texts: list[str]) -> list[str]:
    return " ".join(texts).split()


PLACE: Place[int] = Place(owner="telegram:7", target=TARGET, encode=str, render={"policy": "group"})
FINAL = "Once upon a time, there was a library with a very long shelf."


async def crash_after_first_message(bridge: Bridge, chat: FakeChat, clock: VirtualClock) -> None:
    """A live reply whose bridge dies once its first message is out and journaled (its relay never ends: as in
    a kill, nothing after that point runs)."""
    steps: list[tuple[float, ReplyEvent]] = [
        (1.0, ReplySnapshot(text="Once upon a time, ")),
        (1000.0, ReplyFinal(text=FINAL)),
    ]
    ticket = bridge.journal.ticket(request(), ROUTE, "reply")
    live = asyncio.create_task(ticket.relay(scripted(clock, steps), chat.sink(), RULES, bridge.budgets, PLACE))
    while not chat.of("send"):
        await clock.sleep(0.5)
    await clock.sleep(0.5)  # (the journal writes right after the send returns)
    live.cancel()
    await asyncio.gather(live, return_exceptions=True)


async def test_a_live_reply_is_journaled_until_it_ends_then_closed() -> None:
    memory, backend, clock, chat = world()
    bridge = Bridge(memory, backend, clock, chat)
    ticket = bridge.journal.ticket(request(), ROUTE, "reply")
    seen: list[ReplyRecord] = []

    async def watched() -> AsyncIterator[ReplyEvent]:
        steps: list[tuple[float, ReplyEvent]] = [
            (1.0, ReplySnapshot(text="Once upon a time, ")),
            (3.0, ReplySnapshot(text="Once upon a time, there was a library ")),
            (3.0, ReplyFinal(text=FINAL)),
        ]
        async for event in scripted(clock, steps):
            seen.append(memory.entries[ticket.reply_id].model_copy())
            yield event

    result = await ticket.relay(watched(), chat.sink(), RULES, bridge.budgets, PLACE)
    assert result.delivered and len(chat.shown()) == 2
    assert (seen[0].parts, seen[0].text, seen[0].prompt) == ([], "", "hello there")  # open before it starts
    assert (seen[0].owner, seen[0].run, seen[0].target, seen[0].render) == (
        "telegram:7",
        bridge.journal.run,
        TARGET,
        {"policy": "group"},
    )
    assert (seen[1].parts, seen[1].text) == (["1"], "Once upon a time, ")  # the message, with its text
    assert (seen[2].parts, seen[2].text) == (["1"], "Once upon a time, there was a library ")  # 3 s later
    assert all(not entry.final for entry in seen)
    assert memory.entries == {}  # closed once it has ended on screen


async def test_a_restart_finishes_the_reply_from_the_backend_in_its_own_messages_once() -> None:
    memory, backend, clock, chat = world([user("hello there"), character(FINAL)])
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    assert chat.shown() == ["Once upon a time, "] and len(memory.entries) == 1

    again = Bridge(memory, backend, clock, chat)
    assert await again.journal.recover(again.restorer) == 1
    assert "".join(chat.shown()).split() == FINAL.split() and len(chat.shown()) == 2  # message 1 edited, 2 sent
    assert all(chat.is_final()) and memory.entries == {}
    assert backend.looks == 2  # final, and the same a poll later: settled
    sent = len(chat.calls)
    assert await Bridge(memory, backend, clock, chat).journal.recover(again.restorer) == 0  # never twice
    assert len(chat.calls) == sent


async def test_a_turn_that_never_finishes_ends_with_the_notice_after_the_wait() -> None:
    memory, backend, clock, chat = world([user("hello there"), character("Once upon a time, the", final=False)])
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    again = Bridge(memory, backend, clock, chat)
    started = clock.now()
    assert await again.journal.recover(again.restorer) == 1
    assert words(chat.shown()) == words([f"Once upon a time,\n\n{NOTICE}"])  # what it had, then the notice
    assert chat.of("edit")[0].message == 1  # its own message, edited
    assert clock.now() - started >= 10.0 and backend.looks == 11  # looked every second for recovery_wait
    assert memory.entries == {}


async def test_a_message_that_never_reached_the_backend_is_given_up_at_once() -> None:
    memory, backend, clock, chat = world([user("something else"), character("an old answer")])
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    again = Bridge(memory, backend, clock, chat)
    await again.journal.recover(again.restorer)
    assert words(chat.shown()) == words([f"Once upon a time,\n\n{NOTICE}"]) and backend.looks == 1


async def test_an_ending_already_journaled_needs_no_backend() -> None:
    memory, backend, clock, chat = world()
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    [entry] = memory.entries
    await memory.note_reply(entry, ["1"], "The end.", final=True)
    again = Bridge(memory, backend, clock, chat)
    await again.journal.recover(again.restorer)
    assert chat.shown() == ["The end."] and backend.looks == 0


async def test_the_replies_of_the_running_bridge_are_its_own() -> None:
    memory, backend, clock, chat = world([user("hello there"), character(FINAL)])
    bridge = Bridge(memory, backend, clock, chat)
    await crash_after_first_message(bridge, chat, clock)
    assert await bridge.journal.recover(bridge.restorer) == 0  # (same run: it is alive, not interrupted)
    assert len(memory.entries) == 1 and chat.shown() == ["Once upon a time, "]


async def test_a_reply_that_cannot_be_finished_is_given_up_after_the_attempts() -> None:
    memory, backend, clock, chat = world([user("hello there"), character(FINAL)])
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    chat.edit_failures = lambda message, text, final: RuntimeError("the platform refuses")
    chat.max_length = 0  # and every new message is rejected
    for _ in range(2):  # recovery_attempts = 2: two starts try
        bridge = Bridge(memory, backend, clock, chat)
        assert await bridge.journal.recover(bridge.restorer) == 0
        assert len(memory.entries) == 1
    last = Bridge(memory, backend, clock, chat)
    calls = len(chat.calls)
    assert await last.journal.recover(last.restorer) == 0
    assert memory.entries == {} and len(chat.calls) == calls  # given up, without another try


async def test_messages_that_cannot_be_edited_get_the_ending_anew_at_most_once() -> None:
    memory, backend, clock, chat = world([user("hello there"), character("The end.")])
    await crash_after_first_message(Bridge(memory, backend, clock, chat), chat, clock)
    again = Bridge(memory, backend, clock, chat)
    again.restorer.anew = True
    assert await again.journal.recover(again.restorer) == 1
    assert chat.shown() == ["Once upon a time, ", "The end."] and memory.entries == {}


async def test_a_failing_store_does_not_stop_a_reply() -> None:
    memory, backend, clock, chat = world()
    memory.fail = True
    bridge = Bridge(memory, backend, clock, chat)
    steps: list[tuple[float, ReplyEvent]] = [(1.0, ReplySnapshot(text="Once upon ")), (3.0, ReplyFinal(text=FINAL))]
    ticket = bridge.journal.ticket(request(), ROUTE, "reply")
    result = await ticket.relay(scripted(clock, steps), chat.sink(), RULES, bridge.budgets, PLACE)
    assert result.delivered and "".join(chat.shown()).split() == FINAL.split()


async def test_an_error_ending_is_journaled_as_the_relay_shows_it() -> None:
    memory, backend, clock, chat = world()
    bridge = Bridge(memory, backend, clock, chat)
    error = ReplyError(code="filtered", message="Filtered.")
    notes: list[tuple[str, bool]] = []
    original = memory.note_reply

    async def note(reply_id: str, parts: list[str], text: str, final: bool) -> bool:
        notes.append((text, final))
        return await original(reply_id, parts, text, final)

    memory.note_reply = note  # type: ignore[method-assign]
    steps: list[tuple[float, ReplyEvent]] = [(1.0, ReplySnapshot(text="I was ")), (3.0, error)]
    ticket = bridge.journal.ticket(request(), ROUTE, "reply")
    await ticket.relay(scripted(clock, steps), chat.sink(), RULES, bridge.budgets, PLACE)
    assert notes[-1] == ("I was\n\n⚠️ Filtered.", True) and chat.shown() == ["I was\n\n⚠️ Filtered."]


def test_choosing_the_answer_in_the_history() -> None:
    reply = ReplyRecord(
        reply_id="r", owner="o", run="x", conversation="c", who="*", preset="ada", prompt=" hello ", target=TARGET
    )
    regenerate = reply.model_copy(update={"kind": "regenerate", "prompt": ""})
    answered = [user("hello"), character("old"), user("hello"), character("new", final=False)]
    assert answer_in(answered, reply) == character("new", final=False)  # after the newest matching user turn
    assert answer_in([user("hello"), character("a"), user("hello")], reply) is None  # not answered yet
    assert answer_in([user("bye"), character("a")], reply) is NO_TRACE  # the message never got there
    assert answer_in([], reply) is NO_TRACE
    assert answer_in(answered, regenerate) == character("new", final=False)
    assert answer_in([character("a"), user("hi")], regenerate) is NO_TRACE
