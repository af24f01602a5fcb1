"""What the sandbox starts with: the demo cast, one preset per character, and the time scale.

Every interval scales with ``SandboxTiming.time_scale``: the fake Telegram's flood windows, the fake
Discord's rate limits, the bridge's pacing and the fake Character.AI's streaming all run at the same fraction
of real time, so replies keep the platforms' real proportions (a Telegram private chat edits about once a
second, a group about every three seconds) while growing visibly fast. Only the deadlines that measure the
bot itself stay real (Discord's 3 s to acknowledge a slash command).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from bot.models import Preset
from bot.relay import PacingPolicy
from fakes.characterai import DEMO_CHARACTERS, FakeCharacter

# One preset per demo character, by a short name an operator can type.
PRESET_NAMES: dict[str, str] = {
    "demo_captain_redbeard": "redbeard",
    "demo_ms_marginalia": "marginalia",
    "demo_echo": "echo",
    "demo_madame_zora": "zora",
}
DEFAULT_PRESET = "redbeard"

# The pacing fields that are durations (the rest are counts and factors).
PACING_TIME_FIELDS = ("destination_window", "shared_window", "global_window", "min_interval", "max_interval",
                      "typing_interval", "retry_delay")  # fmt: skip


class SandboxTiming(BaseModel):
    """How fast the sandbox world runs. 1.0 is real time."""

    model_config = ConfigDict(frozen=True)

    time_scale: float = Field(default=0.15, gt=0, le=1)
    chunk_chars: int = Field(default=6, ge=1, description="characters per Character.AI snapshot")
    snapshot_seconds: float = Field(default=0.25, ge=0, description="real-time seconds between snapshots")
    quiet_seconds: float = Field(default=6.0, gt=0, description="real-time silence that means a reply is done")

    @property
    def snapshot_delay(self) -> float:
        return self.snapshot_seconds * self.time_scale

    @property
    def quiet(self) -> float:
        """How long the bot must have written nothing before the sandbox calls its answer complete: longer
        than any pause the relay makes inside one reply (a group's budget spread out to one call per 4 s,
        typing every 4.5 to 5 s), in scaled time."""
        return max(0.2, self.quiet_seconds * self.time_scale)

    def pacing(self, policy: PacingPolicy) -> dict[str, float]:
        """Overrides that shrink every interval of ``policy`` by the time scale."""
        return {name: getattr(policy, name) * self.time_scale for name in PACING_TIME_FIELDS}


def demo_characters(timing: SandboxTiming) -> list[FakeCharacter]:
    """The built-in cast, streaming at the sandbox's pace."""
    return [
        character.model_copy(update={"chunk_chars": timing.chunk_chars, "snapshot_delay": timing.snapshot_delay})
        for character in DEMO_CHARACTERS
    ]


def demo_presets(characters: Sequence[FakeCharacter]) -> list[Preset]:
    return [
        Preset(name=PRESET_NAMES.get(c.id, c.id.lower()[:32]), character_id=c.id, display_name=c.name)
        for c in characters
    ]


def character_names(characters: Sequence[FakeCharacter]) -> dict[str, str]:
    """Character id -> display name, for labelling replies."""
    return {c.id: c.name for c in characters}
