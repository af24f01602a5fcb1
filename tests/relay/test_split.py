"""Splitting: limits, boundary preference, exact re-joining, code fences, stability while a text grows."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.relay import plan_split, split_text
from bot.relay.fences import find_fences

WORD_CHARS = "abcdefghijklmnopqrstuvwxyzäöüßéАБВгдж中文字"
EXTRAS = ["e\u0301", "👩\u200d💻", "❤\ufe0f", "🙂", "\t", "\r\n"]
SEPARATORS = [" ", " ", " ", "  ", ". ", "! ", "? ", ".\n", "\n", "\n\n", "\n\n\n", ' "', '." ', "\t", " \n "]


def random_prose(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.7:
            word = "".join(rng.choice(WORD_CHARS) for _ in range(rng.randint(1, 12)))
        elif roll < 0.8:
            word = rng.choice(EXTRAS)
        elif roll < 0.85:
            word = "x" * rng.randint(20, 400)  # a long unbreakable word
        elif roll < 0.88:
            word = rng.choice([" ", "\n"]) * rng.randint(5, 300)  # a long whitespace run
        else:
            word = rng.choice(SEPARATORS)
        out.append(word)
        out.append(rng.choice(SEPARATORS))
        length += len(word) + 1
    return "".join(out)


def random_markdown(rng: random.Random, size: int) -> str:
    out: list[str] = []
    while sum(map(len, out)) < size:
        if rng.random() < 0.3:
            marker = rng.choice(["```", "````", "~~~"])
            lang = rng.choice(["", "python", "js", "c++"])
            lines = [random_prose(rng, rng.randint(5, 120)).replace("\n", " ") for _ in range(rng.randint(1, 30))]
            body = "\n".join(lines)
            closing = f"\n{marker}\n" if rng.random() < 0.9 else "\n"  # sometimes left open
            out.append(f"{marker}{lang}\n{body}{closing}")
        else:
            out.append(random_prose(rng, rng.randint(10, 400)) + "\n\n")
    return "".join(out)


def check_tiling(text: str, max_length: int) -> None:
    parts = plan_split(text, max_length)
    assert (parts == []) == (text == "")
    position = 0
    for part in parts:
        assert 0 < len(part.text) <= max_length, (len(part.text), max_length)
        assert part.start == position and part.end > part.start
        assert part.text == part.prefix + text[part.start : part.end] + part.suffix
        position = part.end
    assert position == len(text)
    if not any(part.prefix or part.suffix for part in parts):
        assert "".join(split_text(text, max_length)) == text


@pytest.mark.parametrize("seed", range(6))
def test_random_prose_splits_join_exactly(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        max_length = rng.choice([1, 2, 3, 7, 16, 50, 200, 777, 2000, 4096])
        text = random_prose(rng, rng.randint(0, 300 if max_length < 10 else 3000))
        parts = split_text(text, max_length)
        assert "".join(parts) == text
        assert all(0 < len(part) <= max_length for part in parts)
        check_tiling(text, max_length)


@pytest.mark.parametrize("seed", range(6))
def test_random_markdown_parts_tile_the_text(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(80):
        text = random_markdown(rng, rng.randint(50, 6000))
        check_tiling(text, rng.choice([16, 40, 100, 300, 1000, 2000]))


@pytest.mark.parametrize("seed", range(4))
def test_separators_stay_at_the_end_of_the_earlier_part(seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(200):
        text = random_prose(rng, rng.randint(100, 3000))
        max_length = rng.choice([30, 100, 500])
        parts = split_text(text, max_length)
        for earlier, later in itertools.pairwise(parts):
            # a part starts with whitespace only when the run did not fit in the (full) earlier part
            if later[0].isspace():
                assert len(earlier) == max_length


@pytest.mark.parametrize("seed", range(4))
def test_earlier_parts_do_not_move_while_the_text_grows(seed: int) -> None:
    rng = random.Random(3000 + seed)
    for _ in range(15):
        text = random_prose(rng, rng.randint(500, 4000))
        max_length = rng.choice([50, 200, 700])
        whole = plan_split(text, max_length)
        for length in range(0, len(text), rng.randint(20, 80)):
            grown = plan_split(text[:length], max_length)
            for index, part in enumerate(whole):
                if part.start + max_length + 1 <= length:  # its window is fully known
                    assert grown[index] == part


def test_ten_thousand_characters_in_4096_make_three_exact_parts() -> None:
    rng = random.Random(7)
    text = random_prose(rng, 10_000)[:10_000]
    parts = split_text(text, 4096)
    assert len(parts) == 3
    assert "".join(parts) == text


def test_paragraph_break_beats_sentence_and_space() -> None:
    text = "One two. Three four. " * 5 + "\n\n" + "Five six. Seven eight. " * 3 + "z" * 100
    first = split_text(text, 160)[0]
    assert first.endswith("\n\n") and first == text[: text.index("\n\n") + 2]


def test_sentence_end_beats_plain_space() -> None:
    text = "alpha beta gamma. delta epsilon zeta eta theta iota kappa " * 3
    first = split_text(text, 100)[0]
    assert first.endswith("gamma. ") and len(first) > 50


def test_a_late_sentence_beats_an_early_paragraph() -> None:
    text = "Hi.\n\n" + "word " * 30 + "end. " + "tail " * 40
    first = split_text(text, 180)[0]
    assert first.endswith("end. ")  # the paragraph break at 5 would waste most of the message


def test_hard_cut_without_whitespace_and_grapheme_safety() -> None:
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    accented = "e\u0301" * 10  # every other code point is a combining accent
    parts = split_text(accented, 5)
    assert "".join(parts) == accented
    assert all(part[0] != "́" for part in parts)


def test_prefers_cutting_outside_a_code_fence() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(12)) + "\n```\n"
    text = "Some intro text here.\n\n" + code + "\nAnd after."
    parts = plan_split(text, len(code) + 10)  # intro and code do not fit together
    assert parts[0].text == "Some intro text here.\n\n"  # not a cut inside the code, though later
    assert not any(part.prefix or part.suffix for part in parts)
    assert "".join(part.text for part in parts) == text


def test_a_long_fence_is_closed_and_reopened_with_its_language() -> None:
    body = "\n".join(f"print('line {i}')  # some comment" for i in range(120))
    text = "Here is the code:\n\n```python\n" + body + "\n```\n\nDone."
    parts = plan_split(text, 500)
    assert len(parts) > 3
    inner = [part for part in parts if part.prefix or part.suffix]
    assert inner, "the fence had to be split"
    for part in parts:
        assert len(part.text) <= 500
        fences = find_fences(part.text)
        assert all(fence.end <= len(part.text) for fence in fences)
        # every message is balanced: each fence it opens is closed inside it
        opened = part.text.count("```")
        assert opened % 2 == 0, part.text
    for part in inner[1:]:
        assert part.prefix == "```python\n"
    assert parts[-1].text.endswith("Done.")


def test_invalid_length() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 0)
