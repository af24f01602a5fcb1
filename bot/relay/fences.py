"""Where the Markdown code fences of a text are (CommonMark-style ``` and ~~~ fences)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPENER = re.compile(r" {0,3}(`{3,}|~{3,})(.*?)\r?")
_CLOSER = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*\r?")


@dataclass(frozen=True)
class Fence:
    start: int  # where the opening line starts
    body_start: int  # just after the opening line's newline
    end: int  # just after the closing line (its newline included); len(text) if unclosed
    opener: str  # the opening line without its newline, e.g. "```python"
    marker: str  # the fence string a closing line needs, e.g. "```"

    def splits_at(self, cut: int) -> bool:
        """A cut here leaves the opening in one part and the rest of the fence in the next."""
        return self.start < cut < self.end


def find_fences(text: str) -> list[Fence]:
    fences: list[Fence] = []
    open_at = body = 0
    opener = marker = ""
    pos = 0
    while pos < len(text):
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline + 1
        line = text[pos:line_end].rstrip("\n")
        if not marker:
            match = _OPENER.fullmatch(line)
            if match and not (match[1][0] == "`" and "`" in match[2]):
                open_at, body, opener, marker = pos, line_end, line.rstrip("\r"), match[1]
        else:
            match = _CLOSER.fullmatch(line)
            if match and match[1][0] == marker[0] and len(match[1]) >= len(marker):
                fences.append(Fence(open_at, body, line_end, opener, marker))
                marker = ""
        pos = line_end
    if marker:
        fences.append(Fence(open_at, body, len(text), opener, marker))
    return fences


def fence_at(fences: list[Fence], cut: int) -> Fence | None:
    """The fence a cut at this position would split, if any."""
    for fence in fences:
        if fence.splits_at(cut):
            return fence
        if fence.start >= cut:
            break
    return None
