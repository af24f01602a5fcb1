"""What a user's photo, sticker, voice message or file looks like in a Bot API ``Message``: the fields it carries
besides the text (which, for media, is the ``caption``, at most 1024 characters; stickers have none)."""

from __future__ import annotations

from typing import Any, Literal

MediaKind = Literal["photo", "sticker", "voice", "document"]

MAX_CAPTION_LENGTH = 1024
CAPTIONLESS: frozenset[str] = frozenset({"sticker"})


def media_fields(kind: MediaKind, serial: int) -> dict[str, Any]:
    """The message fields of one piece of media; ``serial`` makes its file ids unique."""
    file = {"file_id": f"{kind}-{serial}-file", "file_unique_id": f"{kind}{serial}"}
    if kind == "photo":  # every size Telegram made of the picture, smallest first
        sizes = [(90, 67, 1200), (320, 240, 14000), (800, 600, 52000)]
        return {
            "photo": [
                {**file, "file_id": f"{file['file_id']}-{w}", "file_unique_id": f"{kind}{serial}w{w}",
                 "width": w, "height": h, "file_size": size}
                for w, h, size in sizes
            ]
        }  # fmt: skip
    if kind == "sticker":
        return {"sticker": {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "emoji": "🙂"}}  # fmt: skip
    if kind == "voice":
        return {"voice": {**file, "duration": 3, "mime_type": "audio/ogg", "file_size": 9000}}
    return {"document": {**file, "file_name": "notes.txt", "mime_type": "text/plain", "file_size": 300}}


def caption_problem(kind: MediaKind, caption: str | None) -> str | None:
    """Why no Telegram app could send this caption with this media (None when it could)."""
    if caption is None:
        return None
    if kind in CAPTIONLESS:
        return f"Telegram sends a {kind} without a caption"
    if len(caption.strip()) > MAX_CAPTION_LENGTH:
        return f"a caption holds at most {MAX_CAPTION_LENGTH} characters"
    return None
