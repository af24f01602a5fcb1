"""MessageEntity generation for text typed by fake users, the way Telegram's servers do it.

Offsets and lengths are in UTF-16 code units (an astral emoji counts 2), as the Bot API specifies.
"""

from __future__ import annotations

import re
from typing import Any

_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}(?!\w)")
_URL = re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\"\.,;:!?)\]]")
_HASHTAG = re.compile(r"(?<![\w#])#[^\W\d][\w]{0,255}")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_offset(text: str, index: int) -> int:
    """UTF-16 offset of the Python (code point) index ``index`` in ``text``."""
    return utf16_len(text[:index])


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring covered by a UTF-16 ``offset``/``length`` pair."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def entity(kind: str, text: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
    """An entity covering code points ``start:end`` of ``text``."""
    offset = utf16_offset(text, start)
    return {"type": kind, "offset": offset, "length": utf16_len(text[start:end]), **extra}


def detect_entities(text: str) -> list[dict[str, Any]]:
    """bot_command, mention, url and hashtag entities, sorted by offset as Telegram returns them."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("url", _URL), ("bot_command", _COMMAND), ("mention", _MENTION), ("hashtag", _HASHTAG)):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    found.sort()
    return [entity(kind, text, start, end) for start, end, kind in found]


def entity_text(text: str, item: dict[str, Any]) -> str:
    return utf16_slice(text, int(item["offset"]), int(item["length"]))


def command_target(text: str, entities: list[dict[str, Any]]) -> tuple[str, str | None] | None:
    """(command, @botname or None) for a message whose first entity is a bot_command at offset 0."""
    for item in entities:
        if item.get("type") == "bot_command" and item.get("offset") == 0:
            command, _, target = entity_text(text, item)[1:].partition("@")
            return command, (target or None)
    return None


def commands_addressed_to(text: str, entities: list[dict[str, Any]]) -> list[str | None]:
    """The @botname part of every bot_command entity (None for a bare /command)."""
    targets: list[str | None] = []
    for item in entities:
        if item.get("type") == "bot_command":
            _, _, target = entity_text(text, item).partition("@")
            targets.append(target or None)
    return targets


def mentioned_usernames(text: str, entities: list[dict[str, Any]]) -> set[str]:
    return {
        entity_text(text, item)[1:].lower() for item in entities if item.get("type") == "mention"
    }


def strip_with_entities(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace; entities shift and clip accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    adjusted: list[dict[str, Any]] = []
    for item in entities:
        start = max(int(item["offset"]) - shift, 0)
        end = min(int(item["offset"]) + int(item["length"]) - shift, limit)
        if end > start:
            adjusted.append({**item, "offset": start, "length": end - start})
    return stripped, adjusted
