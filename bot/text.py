"""Small facts about message text that every platform shares, and how answers show what users typed."""

from __future__ import annotations

import re
import unicodedata

# Characters that show nothing but are not whitespace or format characters (fillers and blank signs).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_blank(text: str) -> bool:
    """Nothing in ``text`` would show: only whitespace and invisible characters (U+200B and friends)."""
    return all(ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) == "Cf" for ch in text)


def clean_text(text: str) -> str:
    """``text`` made encodable as UTF-8, for every string that enters the core from a platform.

    JSON can carry UTF-16 surrogates as escapes ("\\ud800"), which Python decodes into code points no encoder
    accepts. A surrogate pair split into two code points becomes its character again; a lone surrogate becomes
    U+FFFD. The UTF-16 length stays the same, so Telegram's entity offsets still point where they did.
    """
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


SHOWN_MAX = 100  # characters of a user's value an answer shows


def clip(value: str, limit: int = SHOWN_MAX) -> str:
    """A user's value as an answer shows it: one line (its first with text), at most ``limit`` characters,
    ending in "…" where anything was left out (a 10,000-character preset name is never echoed back whole)."""
    lines = [line for line in value.splitlines() if line.strip()]
    shown = lines[0] if lines else value.strip()
    more = len(lines) > 1
    if len(shown) > limit or (more and len(shown) >= limit):
        shown, more = shown[: limit - 1], True
    return shown + "…" if more else shown
