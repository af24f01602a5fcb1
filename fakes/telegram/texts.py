"""Telegram's rules for message text: the length limit and which texts count as empty.

Telegram (TDLib's ``strip_empty_characters``, which the Bot API server and the apps share) counts a text as
empty when nothing is left but whitespace and a few invisible characters: zero width space, non-joiner and
joiner, the left-to-right and right-to-left marks, the right-to-left override, the byte order mark, the
no-break space, and the characters it turns into spaces (U+180E, U+2800 braille blank, U+FFFC, the tag
characters U+E0000-U+E007F). The word joiner U+2060 is *not* among them: a text of word joiners is sent.
"""

from __future__ import annotations

MAX_TEXT_LENGTH = 4096  # counted in code points (measured on real Telegram), entities use UTF-16

_EMPTY_CHARACTERS = frozenset("\u00a0\u180e\u200b\u200c\u200d\u200e\u200f\u202e\u2800\ufeff\ufffc")


def _is_empty_character(char: str) -> bool:
    return char.isspace() or char in _EMPTY_CHARACTERS or 0xE0000 <= ord(char) <= 0xE007F


def is_empty_text(text: str) -> bool:
    """Whether Telegram refuses ``text`` as empty (also when it holds only invisible characters)."""
    return all(_is_empty_character(char) for char in text)


def user_text_problem(text: str) -> str | None:
    """Why no Telegram app could send ``text`` as a message (None when it could)."""
    if is_empty_text(text):
        return "Telegram does not send an empty message (only whitespace or invisible characters)"
    length = len(text.strip())
    if length > MAX_TEXT_LENGTH:
        return f"Telegram does not send a message of {length} characters (at most {MAX_TEXT_LENGTH})"
    return None
