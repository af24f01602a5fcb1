"""Plain-text answers to admin commands: short, platform-neutral (adapters may add their own markup)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.models import AuditEntry, Preset
from bot.text import clip

# Where a preset comes from: the config file, an admin command, or an admin command over a file preset.
Source = Literal["file", "stored", "override"]

NO_PRESETS = "No presets yet. An admin can add one with /preset create <name> <character_id>."


def preset_label(preset: Preset) -> str:
    return f"{preset.name} ({preset.display_name})" if preset.display_name else preset.name


def preset_line(preset: Preset, source: Source, marks: Sequence[str] = ()) -> str:
    extra = "".join(f", {mark}" for mark in marks)
    return f"- {preset_label(preset)}: {preset.backend} {preset.character_id} [{source}{extra}]"


def preset_list(lines: Sequence[str]) -> str:
    if not lines:
        return NO_PRESETS
    return "\n".join([f"Presets ({len(lines)}):", *lines])


def preset_details(preset: Preset, source: Source, bound_here: bool) -> str:
    pacing = ", ".join(f"{k}={v:g}" for k, v in sorted(preset.pacing.items())) or "platform defaults"
    origin = {"file": "from the config file", "stored": "made by an admin", "override": "admin override"}[source]
    here = "; bound here" if bound_here else ""
    shown_as = preset.display_name or "the character's own name"
    return "\n".join(
        [
            f"{preset.name} ({origin}{here})",
            f"character: {preset.character_id} on {preset.backend}",
            f"display name: {shown_as}; avatar: {clip(preset.avatar_url) if preset.avatar_url else 'none'}",
            f"greeting: {'on' if preset.greeting else 'off'}; trigger: {preset.trigger}; scope: {preset.scope}",
            f"pacing: {pacing}",
            *([f"npcs: {', '.join(n.name for n in preset.npcs)} ({_npc_mode(preset)})"] if preset.npcs else []),
        ]
    )


def _npc_mode(preset: Preset) -> str:
    return "one group room" if preset.room else "one chat each"


def history(entries: Sequence[AuditEntry], everywhere: bool) -> str:
    if not entries:
        return "No changes recorded yet." if everywhere else "No changes recorded here yet."
    title = "Latest changes everywhere:" if everywhere else "Latest changes here:"
    lines = [title]
    for entry in entries:
        when = entry.at.strftime("%Y-%m-%d %H:%M UTC")
        where = f" in {entry.conversation}" if everywhere else ""
        detail = f" {entry.detail}" if entry.detail else ""
        who = f"{entry.actor_name} ({entry.actor})" if entry.actor_name else entry.actor
        lines.append(f"- {when} {who}{where}: {entry.action}{detail}")
    return "\n".join(lines)


def bound(preset: Preset, chat_id: str | None) -> str:
    if chat_id is not None:
        return f"Bound {preset_label(preset)} here, resuming chat {chat_id}."
    return f"Bound {preset_label(preset)} here; a new conversation starts with the next message."


def places(conversations: Sequence[str], shown: int = 5) -> str:
    listed = ", ".join(conversations[:shown])
    more = len(conversations) - shown
    return f"{listed} and {more} more" if more > 0 else listed
