"""Who is in a cast, who speaks, and how names are matched (whole words, any case)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.models import NpcCharacter, Speaker

MAX_CAST = 10


def speaker_of(npc: NpcCharacter) -> Speaker:
    return Speaker(name=npc.name, avatar_url=npc.avatar_url, character_id=npc.character_id)


def name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word (or words), in any case: "Ada" matches "ada," but not "Adam"."""
    words = r"\s+".join(re.escape(word) for word in name.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def by_id(cast: Sequence[NpcCharacter], character_id: str | None) -> NpcCharacter | None:
    return next((npc for npc in cast if character_id and npc.character_id == character_id), None)


def by_name(cast: Sequence[NpcCharacter], name: str | None) -> NpcCharacter | None:
    wanted = " ".join((name or "").split()).casefold()
    return next((npc for npc in cast if wanted and " ".join(npc.name.split()).casefold() == wanted), None)


def named_in(cast: Sequence[NpcCharacter], text: str) -> list[NpcCharacter]:
    """Every cast member named in ``text``, in the order of their first mention."""
    found: list[tuple[int, NpcCharacter]] = []
    for npc in cast:
        match = name_pattern(npc.name).search(text)
        if match is not None:
            found.append((match.start(), npc))
    return [npc for _, npc in sorted(found, key=lambda pair: pair[0])]


def leading_name(cast: Sequence[NpcCharacter], text: str) -> tuple[NpcCharacter, str] | None:
    """The cast member whose name starts ``text`` (the longest such name), and the text after it."""
    best: tuple[NpcCharacter, str] | None = None
    best_length = -1
    for npc in cast:
        match = name_pattern(npc.name).match(text.lstrip())
        if match is not None and match.end() > best_length:
            best_length = match.end()
            rest = text.lstrip()[match.end() :].lstrip(" ,:;-\t\n")
            best = (npc, rest.strip())
    return best


def next_speaker(cast: Sequence[NpcCharacter], after: str) -> NpcCharacter | None:
    """The cast member after ``after`` (a character id) in cast order, wrapping round; never ``after``."""
    others = [npc for npc in cast if npc.character_id != after]
    if not others:
        return None
    ids = [npc.character_id for npc in cast]
    if after not in ids:
        return others[0]
    start = ids.index(after)
    for step in range(1, len(cast) + 1):
        candidate = cast[(start + step) % len(cast)]
        if candidate.character_id != after:
            return candidate
    return None  # pragma: no cover (others is non-empty)
