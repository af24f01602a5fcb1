"""Character.AI backend: REST (plus / neo), the DM websocket and the group-room websocket.

Usage::

    backend = CharacterAIBackend(CharacterAIConfig(token="..."))
    await backend.start()
    async for event in backend.send(chat_id, character_id, "Hi!"): ...
"""

from backends.characterai.backend import CharacterAIBackend
from backends.characterai.config import CharacterAIConfig

__all__ = ["CharacterAIBackend", "CharacterAIConfig"]
