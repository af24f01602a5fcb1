"""``CharacterAIBackend``: the Character.AI implementation of ``bot.upstream.base.Upstream``, plus the extra
chat operations (edit, remove, recent chat, paged history) and the group-room operations."""

from __future__ import annotations

from collections.abc import AsyncIterator

from backends.characterai.config import CharacterAIConfig
from backends.characterai.dm_chat import DmChats
from backends.characterai.dm_pool import DmPool
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.rest import RestClient
from backends.characterai.rooms import RoomManager
from backends.characterai.wire import Chat, Profile, Room, Turn, TurnsPage
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import CharacterInfo, ErrorCode, HistoryTurn, NewChat, UpstreamError


class CharacterAIBackend:
    name = "characterai"

    def __init__(self, config: CharacterAIConfig) -> None:
        self.config = config
        self._rest = RestClient(config)
        self._history = HistoryReader(config, self._rest)
        self._sockets = DmPool(config)
        self._profile: Profile | None = None
        self._chats: DmChats | None = None
        self._rooms: RoomManager | None = None

    def __repr__(self) -> str:
        user = self._profile.user_id if self._profile else "not started"
        return f"CharacterAIBackend(user={user}, neo_url={self.config.neo_url!r})"

    # ----- lifecycle -----

    async def start(self) -> None:
        """Validate the token (profile over REST), then open the DM websocket. Fails fast with AUTH."""
        await self._rest.open()
        try:
            profile = await self._rest.profile()
            await self._sockets.start()
        except BaseException:
            await self.close()
            raise
        self._profile = profile
        self._chats = DmChats(self.config, self._sockets, self._history, profile)
        self._rooms = RoomManager(self.config, self._rest, self._history, profile)
        log.info("Character.AI: signed in as user %s (%s)", profile.user_id, profile.username)

    async def close(self) -> None:
        if self._rooms is not None:
            await self._rooms.close()
        await self._sockets.close()
        await self._rest.close()

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI backend is not started")
        return self._profile

    @property
    def dm_connections_opened(self) -> int:
        """DM websocket connections opened so far (reconnects included), over the whole pool."""
        return self._sockets.connections_opened

    @property
    def dm_sockets_open(self) -> int:
        """DM websockets of the pool so far (at most ``dm_sockets``)."""
        return self._sockets.size

    @property
    def dm_requests_waiting(self) -> int:
        """Requests waiting for a free DM websocket (their command not written yet)."""
        return self._sockets.waiting

    def _dm(self) -> DmChats:
        if self._chats is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI backend is not started")
        return self._chats

    def _room_manager(self) -> RoomManager:
        if self._rooms is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI backend is not started")
        return self._rooms

    # ----- the Upstream protocol -----

    async def character_info(self, character_id: str) -> CharacterInfo:
        character = await self._rest.character(character_id)
        return CharacterInfo(
            id=character.external_id or character_id,
            name=character.display_name or character_id,
            avatar_url=self.config.avatar_url(character.avatar_file_name),
            greeting=character.greeting or None,
        )

    async def create_chat(self, character_id: str, with_greeting: bool = True) -> NewChat:
        return await self._dm().create_chat(character_id, with_greeting)

    async def send(self, chat_id: str, character_id: str, text: str) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        async for event in self._dm().send(chat_id, character_id, text):
            yield event

    async def regenerate(self, chat_id: str, character_id: str) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        async for event in self._dm().regenerate(chat_id, character_id):
            yield event

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        """The last ``limit`` turns, oldest first."""
        return await self._history.history(chat_id, limit)

    # ----- more chat operations -----

    async def history_page(self, chat_id: str, next_token: str | None = None) -> TurnsPage:
        """One raw page, newest first; pass ``page.next_token`` for the next (None on the last page)."""
        return await self._history.page(chat_id, next_token)

    async def recent_chat(self, character_id: str) -> Chat | None:
        return await self._rest.recent_chat(character_id)

    async def edit_turn(self, chat_id: str, turn_id: str, text: str, candidate_id: str | None = None) -> Turn:
        return await self._dm().edit_turn(chat_id, turn_id, text, candidate_id)

    async def remove_turns(self, chat_id: str, turn_ids: list[str]) -> None:
        await self._dm().remove_turns(chat_id, turn_ids)

    # ----- group rooms -----

    async def list_rooms(self) -> list[Room]:
        return await self._room_manager().list_rooms()

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> Room:
        return await self._room_manager().create_room(character_ids, title, with_greeting)

    async def delete_room(self, room_id: str) -> None:
        await self._room_manager().delete_room(room_id)

    async def room_connect(self, room_id: str) -> None:
        await self._room_manager().connect(room_id)

    def room_connected(self, room_id: str) -> bool:
        return self._room_manager().is_connected(room_id)

    async def room_send(self, room_id: str, text: str) -> Turn:
        return await self._room_manager().send(room_id, text)

    async def room_generate(
        self, room_id: str, character_id: str | None = None
    ) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        async for event in self._room_manager().generate(room_id, character_id):
            yield event

    async def room_disconnect(self, room_id: str) -> None:
        await self._room_manager().disconnect(room_id)

    async def room_history(self, room_id: str, limit: int = 50) -> list[HistoryTurn]:
        return await self._history.history(room_id, limit)
