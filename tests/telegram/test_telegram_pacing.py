"""Group pacing against Telegram's rolling window of 20 sends and edits per minute per group.

A long reply streams into a busy group for about a minute and a half (Telegram time) while members ask for
/help, so the group's budget is the limit the whole time. The default pacing stays under the fake's rolling
window (no 429 at all); the same pacer loosened to 24 per minute through configuration runs into it: with
calls waiting the whole time it sends 24 in the first minute, and Telegram refuses the 21st.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bot.door import HELP_TEXT
from bot.relay import PacingPolicy
from fakes.characterai import FakeCharacter
from fakes.telegram import FakeTelegram
from fakes.telegram.records import Counters
from tests.bridge_world import scaled_pacing
from tests.telegram.conftest import SCALE, TelegramWorld, close_world, open_world

# About 1,500 characters at 10 characters per 30 ms: the reply grows for ~4.5 s, 90 Telegram seconds.
SLOW = [
    FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian", chunk_chars=10,
                  snapshot_delay=0.03),
]
WRITES = ("sendMessage", "editMessageText", "sendChatAction")
HELPERS = 6


def saga() -> str:
    rng = random.Random(5)
    words = ["wind", "sail", "reef", "lantern", "anchor", "storm", "island", "map", "gold", "parrot"]
    sentences = [" ".join(rng.choices(words, k=9)).capitalize() + "." for _ in range(40)]
    return " ".join(sentences)[:1500].rstrip() + "."


def group_pacing(**changes: Any) -> dict[str, dict[str, Any]]:
    """The bridge's pacing at the test's time scale, with ``changes`` to the group policy."""
    return {
        "private": scaled_pacing(PacingPolicy.telegram_private(), SCALE),
        "group": {**scaled_pacing(PacingPolicy.telegram_group(), SCALE), **changes},
    }


def writes_to(tg: FakeTelegram, chat_id: int) -> int:
    """Calls that count against the group's window and were accepted."""
    return sum(
        1 for method in WRITES for call in tg.calls(method)
        if call.status == 200 and str(call.params.get("chat_id")) == str(chat_id)
    )


async def stream_a_long_reply_into_a_busy_group(world: TelegramWorld) -> tuple[Counters, int]:
    """Returns the fake's counters and the number of accepted writes to the group once every answer is final."""
    tg = world.telegram
    users = [tg.add_user(f"Sailor{i}") for i in range(HELPERS + 1)]
    group = tg.add_group("Saga", members=users, bots=["CharBot"], supergroup=True)
    reply = saga()
    world.cai.script_reply("ada", reply)
    tg.user_sends(group, users[0], "@CharBot tell me the whole saga")
    for user in users[1:]:
        tg.user_sends(group, user, "/help@CharBot")
    expected = sorted([reply] + [HELP_TEXT] * HELPERS)
    await tg.wait_for(lambda: sorted(m.text for m in tg.bot_messages(group)) == expected, timeout=60)
    return tg.counters(), writes_to(tg, group.id)


async def test_default_group_pacing_meets_no_429_streaming_into_a_busy_group(tmp_path: Path) -> None:
    world = await open_world(tmp_path, characters=SLOW)
    try:
        counters, writes = await stream_a_long_reply_into_a_busy_group(world)
    finally:
        await close_world(world)
    assert writes > 20, "the answers should have needed more than one minute's budget"
    assert (counters.too_many_requests, counters.penalties) == (0, 0)


async def test_a_group_pacer_loosened_to_24_a_minute_runs_into_telegrams_window(tmp_path: Path) -> None:
    world = await open_world(tmp_path, characters=SLOW, telegram={"pacing": group_pacing(destination_limit=24)})
    try:
        counters, _ = await stream_a_long_reply_into_a_busy_group(world)  # every answer still arrives in full
    finally:
        await close_world(world)
    assert counters.too_many_requests > 0
    assert counters.penalties == 0, "the relay must wait out every retry_after"
