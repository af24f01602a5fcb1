"""Small facts about message text that every platform shares."""

from __future__ import annotations

import unicodedata

# Characters that show nothing but are not whitespace or format characters (fillers and blank signs).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")


def is_blank(text: str) -> bool:
    """Nothing in ``text`` would show: only whitespace and invisible characters (U+200B and friends)."""
    return all(ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) == "Cf" for ch in text)
