"""What an admin command hands back to the adapter."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.models import ReplyFinal


class AdminResult(BaseModel):
    """``text`` answers the admin; ``greeting`` (after ``/preset use`` and ``/character``) is the
    character's first message, to be posted as the character (``speaker``) when the preset asks for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    ok: bool = True  # False: refused or bad arguments, and nothing changed
    greeting: ReplyFinal | None = None


def failed(text: str) -> AdminResult:
    return AdminResult(text=text, ok=False)
