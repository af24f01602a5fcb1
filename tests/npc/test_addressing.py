"""The pure addressing rules: names, replies, /npc, fallbacks and the loop guard."""

from __future__ import annotations

import pytest

from bot.npc import Addressing, AddressProblem, address
from tests.npc.conftest import CAST, message

ADA, REX, ZORA = CAST


def targets(result: Addressing | AddressProblem | None) -> list[str]:
    assert isinstance(result, Addressing), result
    return [npc.name for npc in result.targets]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada, what do you read?", ["Ada"]),
        ("what do you think, ADA?", ["Ada"]),
        ("rex and ada: a toast!", ["Rex", "Ada"]),
        ("tell me my fortune, madame   zora", ["Madame Zora"]),
        ("Ada... and Rex. And Ada again", ["Ada", "Rex"]),
    ],
)
def test_a_named_character_answers_in_the_order_named(text: str, expected: list[str]) -> None:
    result = address(message(text), CAST)
    assert targets(result) == expected
    assert isinstance(result, Addressing) and result.reason == "name" and result.text == text


@pytest.mark.parametrize("text", ["Adam is here", "the adage holds", "Rexford", "Zora alone is not her name"])
def test_names_match_whole_words_only(text: str) -> None:
    assert address(message(text), CAST) is None


def test_a_reply_to_an_npc_reaches_that_npc_even_when_another_is_named() -> None:
    result = address(message("Ada says otherwise", reply_to="telegram:-100:9"), CAST, replied_to="rex")
    assert targets(result) == ["Rex"]
    assert isinstance(result, Addressing) and result.reason == "reply"


def test_the_npc_command_picks_the_longest_leading_name_and_strips_it() -> None:
    result = address(message("madame zora: will it rain?", command="npc"), CAST)
    assert targets(result) == ["Madame Zora"]
    assert isinstance(result, Addressing) and result.text == "will it rain?" and result.reason == "command"


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        ("Bob hello", "No character named 'Bob' here. The cast: Ada, Rex, Madame Zora."),
        ("", "Say which character. The cast: Ada, Rex, Madame Zora."),
        ("Rex", "What should Rex hear?"),
    ],
)
def test_a_bad_npc_command_is_a_problem_to_show(text: str, first_line: str) -> None:
    result = address(message(text, command="npc"), CAST)
    assert isinstance(result, AddressProblem)
    assert result.message.splitlines() == [first_line, "Usage: /npc <name> <message>"]


def test_unnamed_messages_for_the_bot_follow_the_fallback() -> None:
    mention = message("anyone there?", mentions=True)
    assert targets(address(mention, CAST, last_speaker="rex")) == ["Rex"]
    assert targets(address(mention, CAST, last_speaker=None)) == ["Ada"]  # nobody spoke yet: the first
    assert targets(address(mention, CAST, last_speaker="gone")) == ["Ada"]  # left the cast
    chooses = address(mention, CAST, fallback="room", room=True)
    assert isinstance(chooses, Addressing) and chooses.room_choice and chooses.targets == ()
    # without a group room there is nobody to choose: the last speaker answers
    assert targets(address(mention, CAST, last_speaker="rex", fallback="room", room=False)) == ["Rex"]
    assert address(mention, CAST, last_speaker="rex", fallback="none") is None


def test_unnamed_chatter_not_for_the_bot_is_left_alone_unless_the_preset_answers_all() -> None:
    chatter = message("just talking among ourselves")
    assert address(chatter, CAST, last_speaker="rex") is None
    assert targets(address(chatter, CAST, last_speaker="rex", trigger="all")) == ["Rex"]
    assert targets(address(message("hi", dm=True), CAST)) == ["Ada"]
    assert targets(address(message("a story", command="chat"), CAST, last_speaker="zora")) == ["Madame Zora"]


def test_the_cast_never_answers_its_own_messages() -> None:
    own = message("Ada, I, Rex, agree", mentions=True)
    assert address(own, CAST, from_cast=True) is None
    assert address(message("   ", mentions=True), CAST) is None
    assert address(message("Ada?"), []) is None
