"""Never a lost or half-written reply: the real bridge process is killed (SIGKILL) at each moment of a Telegram reply,
started again on the same state (SQLite, or a real redis-server), and the chat must end with the whole reply, or a
notice that it was interrupted, exactly once.

The moments are reached through the fakes' controls, never by timing: the fake Character.AI drops the reply's
socket after N snapshots and holds the rest of the turn until ``release_stalls()`` (the bridge follows the turn in
the history meanwhile), and the fake Telegram holds one exact call (say, the edit that shows the final text) until
``release_holds()``, so the kill lands while it is in flight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.journal import INTERRUPTED
from bot.relay import PacingPolicy, error_notice, split_text
from fakes.characterai import FakeCharacter, FakeCharacterAI, filler_text
from fakes.telegram import Chat, FakeTelegram, StoredMessage, User
from tests.e2e.bridge_process import WAIT, BridgeProcess, common_config, pacing_table, toml_table

SCALE = 0.1  # Telegram's windows and the bridge's pacing, together
TOKEN = "7000000005:TEST-TOKEN-NOT-REAL-JOURNAL"
ADA = FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian", chunk_chars=6)
RUNNING = "telegram is running"
FINISHED = "finished the interrupted reply"
NOTHING_TO_FINISH = "no interrupted reply to finish"
NOTICE = error_notice(INTERRUPTED)


@dataclass
class World:
    cai: FakeCharacterAI
    telegram: FakeTelegram
    bridge: BridgeProcess
    ann: User
    chat: Chat

    def says(self, text: str) -> StoredMessage:
        return self.telegram.user_sends(self.chat, self.ann, text)

    def bot_messages(self) -> list[StoredMessage]:
        return self.telegram.bot_messages(self.chat)

    async def first_text(self) -> StoredMessage:
        """The reply's first message, once the bot has posted it and written it down in its journal (a kill in
        between leaves a message the journal cannot know of: see the README's limits)."""
        message = await self.telegram.wait_for_bot_message(self.chat, timeout=WAIT)
        await self.bridge.logged("1 message(s) journaled")
        return message

    async def asked_upstream(self) -> None:
        """The bridge has sent the message to Character.AI (so its reply is journaled: that comes first)."""
        await self.telegram.wait_for(lambda: self.cai.received("dm", "create_and_generate_turn"), timeout=WAIT)


@pytest.fixture
def final_format() -> str:
    return "plain"


@pytest.fixture(params=["sqlite", "redis"])
async def world(request: pytest.FixtureRequest, tmp_path: Path, final_format: str) -> AsyncIterator[World]:
    cai = FakeCharacterAI(characters=[ADA], seed=1)
    await cai.start()
    telegram = FakeTelegram(time_scale=SCALE)
    telegram.add_bot(TOKEN, "JournalBot")
    await telegram.start()
    env = {"CHARBRIDGE_TELEGRAM__TOKEN": TOKEN, "CHARBRIDGE_CHARACTERAI__TOKEN": cai.token}
    if request.param == "redis":
        env["CHARBRIDGE_STORAGE__REDIS_URL"] = str(request.getfixturevalue("redis_url"))
    section = {"base_url": telegram.base_url, "base_file_url": telegram.base_file_url, "final_format": final_format}
    config = (
        common_config(tmp_path / "data", cai, recovery_wait=2.0)
        + toml_table("telegram", section)
        + pacing_table("telegram.pacing.private", PacingPolicy.telegram_private(), SCALE)
    )
    bridge = BridgeProcess(tmp_path, config, env)
    ann = telegram.add_user("Ann")
    try:
        yield World(cai, telegram, bridge, ann, telegram.private_chat(ann))
    finally:
        await bridge.close()
        await telegram.stop()
        await cai.stop()


async def restart_and_finish(world: World) -> None:
    """A new run; returns once it has finished the interrupted reply."""
    await world.bridge.start(RUNNING)
    await world.bridge.logged(FINISHED)


async def stop_and_check_clean(world: World) -> None:
    await world.bridge.stop()
    log = world.bridge.log()
    assert "Traceback" not in log and TOKEN not in log, log


async def test_killed_mid_stream_the_message_is_finished_from_the_backend_once(world: World) -> None:
    prompt = "tell me about the old library"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=2, hold=True)  # two snapshots, then the turn goes on unseen, held
    await world.bridge.start(RUNNING)
    world.says(prompt)
    partial = await world.first_text()
    assert expected.startswith(partial.text) and partial.text != expected  # half-written
    await world.bridge.kill()
    world.cai.release_stalls()  # the service finishes the turn while the bridge is down

    await restart_and_finish(world)
    await stop_and_check_clean(world)
    [message] = world.bot_messages()
    assert message.message_id == partial.message_id and message.text == expected  # the same message, now whole
    assert "from the backend" in world.bridge.log()

    # never twice: the next start finds nothing left to do and writes nothing
    calls = world.telegram.count("sendMessage"), world.telegram.count("editMessageText")
    await world.bridge.start(RUNNING)
    await world.bridge.logged(NOTHING_TO_FINISH)
    await stop_and_check_clean(world)
    assert (world.telegram.count("sendMessage"), world.telegram.count("editMessageText")) == calls
    assert [m.text for m in world.bot_messages()] == [expected]


async def test_killed_before_the_first_message_the_reply_is_posted_once(world: World) -> None:
    prompt = "what should I read next"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=0, hold=True)  # nothing streamed: not a character shown yet
    await world.bridge.start(RUNNING)
    asked = world.says(prompt)
    await world.asked_upstream()
    await world.bridge.kill()
    assert world.bot_messages() == []
    world.cai.release_stalls()

    await restart_and_finish(world)
    await stop_and_check_clean(world)
    [message] = world.bot_messages()
    assert message.text == expected
    assert message.reply_to is not None and message.reply_to.message_id == asked.message_id  # it answers Ann


async def test_killed_between_the_parts_of_a_long_reply_each_part_is_there_once(world: World) -> None:
    world.cai.script_reply("ada", length=6000)  # two Telegram messages
    world.cai.inject("drop", after_snapshots=2, hold=True)
    await world.bridge.start(RUNNING)
    world.says("the whole catalogue, please")
    first = await world.first_text()
    full = filler_text(6000)
    assert full.startswith(first.text) and len(first.text) < 100
    # the call that completes part 1, just before part 2 is posted, is held: the kill lands between the parts
    part_one = split_text(full, 4096)[0]
    held = world.telegram.inject_fault("editMessageText", status=200, hold=True, text=part_one)
    world.cai.release_stalls()
    await world.telegram.wait_for(lambda: held.hits, timeout=WAIT)
    await world.bridge.kill()
    world.telegram.release_holds()  # (Telegram finishes a call whose client went away)
    assert len(world.bot_messages()) == 1

    await restart_and_finish(world)
    await stop_and_check_clean(world)
    messages = world.bot_messages()
    assert len(messages) == 2 and messages[0].message_id == first.message_id
    assert all(len(m.text) <= 4096 for m in messages)
    assert " ".join(m.text for m in messages).split() == full.split()  # every word, in order, once


@pytest.mark.parametrize("final_format", ["html"])
async def test_killed_during_the_final_edit_the_message_ends_whole_once(world: World) -> None:
    final = "Fish & chips, **the** classic."  # the final edit (HTML) differs from every streaming one
    world.cai.script_reply("ada", final)
    world.cai.inject("drop", after_snapshots=2, hold=True)
    await world.bridge.start(RUNNING)
    world.says("what is for dinner")
    partial = await world.first_text()
    held = world.telegram.inject_fault(
        "editMessageText", status=200, hold=True, text="Fish &amp; chips, <b>the</b> classic."
    )
    world.cai.release_stalls()
    await world.telegram.wait_for(lambda: held.hits, timeout=WAIT)
    await world.bridge.kill()
    world.telegram.release_holds()

    await restart_and_finish(world)
    await stop_and_check_clean(world)
    [message] = world.bot_messages()
    assert message.message_id == partial.message_id
    assert message.text == "Fish & chips, the classic." and [e["type"] for e in message.entities] == ["bold"]
    assert "from the journal" in world.bridge.log()  # the final text had been journaled before the edit


async def test_a_turn_that_never_finishes_ends_with_the_interrupted_notice(world: World) -> None:
    prompt = "and the restricted section"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=2, hold=True)  # held for good: the turn never finishes
    await world.bridge.start(RUNNING)
    world.says(prompt)
    partial = await world.first_text()
    await world.bridge.kill()

    await restart_and_finish(world)  # after recovery_wait, the bridge gives up waiting for the turn
    await stop_and_check_clean(world)
    [message] = world.bot_messages()
    assert message.message_id == partial.message_id
    shown, _, notice = message.text.partition("\n\n")
    assert notice == NOTICE and shown and expected.startswith(shown)  # what it had, marked as interrupted
    assert "interrupted)" in world.bridge.log()
