"""Hostile text for the property tests, and the settings they share.

Every property test runs with ``PROPERTY``: 200 examples, no deadline (CI machines are slow and shared), and
derandomized, so a run explores the same examples every time and a failure in CI is a failure on every machine
(no example database is written either). A new bug therefore needs a new strategy, not luck.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no "explain" phase: it traces every line, slowly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MAX_TEXT = 10_000

# Pieces people (and attackers) put in messages: invalid Unicode, invisible and direction characters, emoji
# sequences held together by joiners, combining marks, right-to-left scripts, line breaks of every kind.
HOSTILE_PIECES = [
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\udc00\ud83d",  # a surrogate pair the wrong way round
    "\x00",
    "\u200b",  # zero width space
    "\u200c\u200d",  # non-joiner, joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # isolates
    "\u200f",  # right-to-left mark
    "\u034f",  # combining grapheme joiner
    "\u3164",  # Hangul filler
    "\u2800",  # braille blank
    "שלום",
    "مرحبا",
    "👩\u200d💻",
    "🏳\ufe0f\u200d🌈",
    "👨\u200d👩\u200d👧\u200d👦",
    "🧙\u200d♂\ufe0f",
    "🇺🇦",
    "e\u0301",
    "Z\u0351\u0352\u0353\u0354",
    "\r\n",
    "\n\n",
    "\t",
    "\u2028",
    "\u00a0",
    "```",
    "**",
    "*",
    "`",
    "<b>",
    "&amp;",
    ".",
    "…",
]

unicode_chars = st.characters(exclude_categories=())  # every code point, surrogates included


def pieces(extra: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """One piece of a message: a word, a hostile piece, whitespace, or a run of any characters."""
    return st.one_of(
        st.sampled_from([*HOSTILE_PIECES, *extra]),
        st.text(alphabet=st.sampled_from("abcdefghij ABC"), min_size=1, max_size=12),
        st.sampled_from([" ", "  ", "\n", " \n "]),
        st.text(alphabet=unicode_chars, min_size=1, max_size=8),
    )


@st.composite
def hostile_text(draw: Any, extra: Sequence[str] = (), max_size: int = MAX_TEXT) -> str:
    """Text of up to ``max_size`` characters built from ``pieces``; sometimes one piece repeated at length, so
    sizes near the limits (thousands of characters) come up too."""
    parts = draw(st.lists(pieces(extra), max_size=40))
    if draw(st.integers(0, 3)) == 0:
        times = draw(st.one_of(st.integers(1, 60), st.sampled_from([500, 1999, 2000, 4095, 4096, max_size])))
        parts.insert(draw(st.integers(0, len(parts))), draw(pieces(extra)) * times)
    return "".join(parts)[:max_size]


def all_strings(value: Any) -> list[str]:
    """Every string inside a value built of dicts, lists, tuples and pydantic-dumped models."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*all_strings(key), *all_strings(item))]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for item in value for s in all_strings(item)]
    return []


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
