"""Splitting a reply into message-sized parts (pure functions).

Cut preference, inside each message-sized window: a paragraph break, then a line break, then the end of
a sentence, then any whitespace, then a hard cut (which avoids separating combining marks and emoji
joiners). Boundaries in the upper half of the window are preferred to earlier ones of a better kind, and
a boundary outside every code fence is preferred to any boundary inside one.

Whitespace: a separator stays at the END of the earlier part (the later part starts with the next word),
so every part but the first starts with visible text. Telegram strips leading and trailing whitespace
when it shows a message, so the separator is invisible there; it is still part of our text, and:

    "".join(split_text(t, n)) == t   for every text t whose split cuts no code fence.

Only a whitespace run longer than a whole message is cut inside (what does not fit starts the next
part); such a run can make a part blank, which the relay never sends.

When a fence must be cut, the earlier part gets a closing fence line appended and the next part starts
with the fence's opening line (same language tag) again, so each message renders as code. Those parts do
not join to the original; ``SplitPart`` records what was added (``prefix`` and ``suffix``) and which
slice of the original each part carries, which always tile the original exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.relay.fences import Fence, fence_at, find_fences

_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = frozenset(".!?…。！？")
_CLOSERS = frozenset("\"')]}»”’")
_GLUE = frozenset("\u200d\ufe0f\ufe0e")  # zero-width joiner, variation selectors
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = range(4)
_MIN_LENGTH_FOR_FENCE_REPAIR = 16


@dataclass(frozen=True)
class SplitPart:
    text: str  # what the message shows: prefix + source[start:end] + suffix
    start: int  # the slice of the original text this part carries
    end: int
    prefix: str = ""  # a reopened code fence
    suffix: str = ""  # a closing fence line

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_text(text: str, max_length: int) -> list[str]:
    return [part.text for part in plan_split(text, max_length)]


def plan_split(text: str, max_length: int) -> list[SplitPart]:
    """Cut ``text`` into parts of at most ``max_length`` characters (none for an empty text).

    Greedy from the start, and each cut depends only on the text up to one window past the previous
    cut, so while a text only grows, earlier parts stay put once the text has passed them.
    """
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    fences = find_fences(text) if max_length >= _MIN_LENGTH_FOR_FENCE_REPAIR else []
    parts: list[SplitPart] = []
    start, prefix = 0, ""
    while start < len(text):
        room = max_length - len(prefix)
        if len(text) - start <= room:
            parts.append(SplitPart(prefix + text[start:], start, len(text), prefix))
            break
        cut, fence = _choose_cut(text, start, room, fences, max_length)
        suffix = _closing(text[start:cut], fence) if fence else ""
        parts.append(SplitPart(prefix + text[start:cut] + suffix, start, cut, prefix, suffix))
        start, prefix = cut, (fence.opener + "\n" if fence else "")
    return parts


def _repairable(fence: Fence, max_length: int) -> bool:
    # Reopening costs the opener line, closing costs the marker; both must leave room for content.
    return len(fence.opener) + len(fence.marker) + 2 <= max_length // 2


def _closing(body: str, fence: Fence) -> str:
    return fence.marker if body.endswith("\n") else "\n" + fence.marker


def _choose_cut(text: str, start: int, room: int, fences: list[Fence], max_length: int) -> tuple[int, Fence | None]:
    """The end of the next part (and the fence it cuts, if that fence gets closed and reopened)."""
    limit = start + room
    half = start + room // 2
    # best[(group, upper, kind)]: the latest cut of that sort. Groups: 0 cuts no fence, 1 cuts a fence
    # that gets closed and reopened, 2 cuts a fence that cannot be repaired.
    best: dict[tuple[int, bool, int], tuple[int, Fence | None]] = {}
    for cut, kind in _boundaries(text, start, limit):
        fence = fence_at(fences, cut)
        if fence is None:
            group = 0
        elif _repairable(fence, max_length) and cut >= fence.body_start:
            if cut + len(_closing(text[start:cut], fence)) > limit:
                continue
            group = 1
        else:
            group, fence = 2, None
        for upper in {False, cut > half}:
            best[(group, upper, kind)] = (cut, fence)  # boundaries come in order: later wins
    if not best:
        return _hard_cut(text, start, limit, fences, max_length)
    group, upper, kind = min(best, key=lambda sort: (sort[0], not sort[1], sort[2]))
    return best[(group, upper, kind)]


def _boundaries(text: str, start: int, limit: int) -> list[tuple[int, int]]:
    """Cut positions in ``(start, limit]`` that end a whitespace run (or as much of it as fits)."""
    found: list[tuple[int, int]] = []
    for match in _WHITESPACE.finditer(text, start, min(len(text), limit + 1)):
        run_start, run_end = match.span()
        if run_start == start:
            continue  # the part would be only whitespace
        cut = min(run_end, limit)
        found.append((cut, _kind(text, run_start, cut)))
    return found


def _kind(text: str, run_start: int, cut: int) -> int:
    newlines = text.count("\n", run_start, cut)
    if newlines >= 2:
        return _PARAGRAPH
    if newlines == 1:
        return _LINE
    before = run_start - 1
    while before > 0 and text[before] in _CLOSERS and run_start - before <= 3:
        before -= 1
    return _SENTENCE if text[before] in _SENTENCE_END else _SPACE


def _hard_cut(text: str, start: int, limit: int, fences: list[Fence], max_length: int) -> tuple[int, Fence | None]:
    cut = _grapheme_safe(text, start, limit)
    fence = fence_at(fences, cut)
    if fence is None or not _repairable(fence, max_length) or cut < fence.body_start:
        return cut, None
    inner = _grapheme_safe(text, start, limit - len(fence.marker) - 1)
    if inner < fence.body_start:  # the room left is still within the opening line: cut plainly
        return cut, None
    return inner, fence


def _grapheme_safe(text: str, start: int, cut: int) -> int:
    """Step a hard cut back (a little) so it does not split a character from its marks or joiners."""
    for _ in range(8):
        if cut <= start + 1 or cut >= len(text):
            break
        glued = unicodedata.combining(text[cut]) or text[cut] in _GLUE or text[cut - 1] in _GLUE
        if not glued and text[cut - 1 : cut + 1] != "\r\n":
            break
        cut -= 1
    return cut
