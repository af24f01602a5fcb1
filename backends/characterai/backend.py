"""``CharacterAIBackend``: the Character.AI implementation of ``bot.upstream.base.Upstream`` and ``GroupRooms``,
on one signed-in ``Account``. Its replies are the account parts' own streams, handed on as they are."""

from __future__ import annotations

from backends.characterai.account import Account
from backends.characterai.config import CharacterAIConfig
from bot.upstream.base import (
    Capabilities,
    CharacterInfo,
    ErrorCode,
    HistoryTurn,
    NewChat,
    NewRoom,
    ReplyStream,
    UpstreamError,
)

CAPABILITIES = Capabilities(
    streams=True,
    regenerate=True,
    edit_turns=True,  # DmChats.edit_turn / remove_turns; on the interface with issue 21
    group_rooms=True,
    greetings=True,
    history="upstream",
)


class CharacterAIBackend:
    name = "characterai"
    capabilities = CAPABILITIES

    def __init__(self, config: CharacterAIConfig) -> None:
        self.config = config
        self._account: Account | None = None

    def __repr__(self) -> str:
        user = self._account.profile.user_id if self._account else "not started"
        return f"CharacterAIBackend(user={user}, neo_url={self.config.neo_url!r})"

    async def start(self) -> None:
        """Sign in (see ``Account.open``): fails fast with AUTH for a refused token."""
        if self._account is None:
            self._account = await Account.open(self.config)

    async def close(self) -> None:
        account, self._account = self._account, None
        if account is not None:
            await account.close()

    def _live(self) -> Account:
        if self._account is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI backend is not started")
        return self._account

    @property
    def dm_requests_waiting(self) -> int:
        """Requests in line for a free DM socket, not written yet (0 when not started): a queue length to watch."""
        return self._account.pool.waiting if self._account is not None else 0

    # ----- Upstream -----

    async def character_info(self, character_id: str) -> CharacterInfo:
        character = await self._live().rest.character(character_id)
        return CharacterInfo(
            id=character.external_id or character_id,
            name=character.display_name or character_id,
            avatar_url=self.config.avatar_url(character.avatar_file_name),
            greeting=character.greeting or None,
        )

    async def create_chat(self, character_id: str) -> NewChat:
        return await self._live().chats.create_chat(character_id)

    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream:
        return self._live().chats.send(chat_id, character_id, text)

    def regenerate(self, chat_id: str, character_id: str) -> ReplyStream:
        return self._live().chats.regenerate(chat_id, character_id)

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        """The last ``limit`` turns, oldest first."""
        return await self._live().history.history(chat_id, limit)

    # ----- GroupRooms -----

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> NewRoom:
        room = await self._live().rooms.create_room(character_ids, title, with_greeting)
        return NewRoom(room_id=room.id)

    async def room_send(self, room_id: str, text: str) -> None:
        await self._live().rooms.send(room_id, text)

    def room_generate(self, room_id: str, character_id: str | None = None) -> ReplyStream:
        return self._live().rooms.generate(room_id, character_id)
