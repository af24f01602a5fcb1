"""Asking a backend whether a character exists before a preset points at it."""

from __future__ import annotations

from collections.abc import Mapping

from bot.text import clip
from bot.upstream.base import CharacterInfo, ErrorCode, Upstream, UpstreamError

_UNKNOWN = {ErrorCode.NOT_FOUND, ErrorCode.INVALID}


class LookupFailed(Exception):
    """The character could not be confirmed; ``message`` is one line for the chat."""

    def __init__(self, message: str, unknown_character: bool) -> None:
        super().__init__(message)
        self.message = message
        self.unknown_character = unknown_character  # True: a bad id (show the usage), else the backend failed


async def look_up(upstreams: Mapping[str, Upstream], backend: str, character_id: str) -> CharacterInfo:
    upstream = upstreams.get(backend)
    if upstream is None:
        raise LookupFailed(
            f"The {backend} backend is not configured, so the character cannot be checked; nothing changed.",
            unknown_character=False,
        )
    try:
        return await upstream.character_info(character_id)
    except UpstreamError as exc:
        if exc.code in _UNKNOWN:
            raise LookupFailed(f"{backend} has no character '{clip(character_id)}'.", unknown_character=True) from None
        raise LookupFailed(
            f"{backend} could not be reached to check the character ({exc.user_message}); nothing changed, "
            "please try again later.",
            unknown_character=False,
        ) from None
