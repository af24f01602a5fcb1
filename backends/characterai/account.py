"""One signed-in Character.AI account and its working parts, wired once: the REST client, the history reader,
the pool of DM websockets, one-on-one chats and group rooms. The backend is built on it; the command-line tool
and the tests use its parts directly."""

from __future__ import annotations

from dataclasses import dataclass

from backends.characterai.config import CharacterAIConfig
from backends.characterai.dm_chat import DmChats
from backends.characterai.dm_pool import DmPool
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.rest import RestClient
from backends.characterai.rooms import RoomManager
from backends.characterai.wire import Profile


@dataclass(frozen=True)
class Account:
    config: CharacterAIConfig
    profile: Profile
    rest: RestClient
    history: HistoryReader
    pool: DmPool
    chats: DmChats
    rooms: RoomManager

    @classmethod
    async def open(cls, config: CharacterAIConfig) -> Account:
        """Validate the token (the profile over REST), then open the first DM websocket. Fails fast with AUTH
        for a refused token; nothing stays open after a failure."""
        rest = RestClient(config)
        pool = DmPool(config)
        await rest.open()
        try:
            profile = await rest.profile()
            await pool.start()
        except BaseException:
            await pool.close()
            await rest.close()
            raise
        history = HistoryReader(config, rest)
        log.info("Character.AI: signed in as user %s (%s)", profile.user_id, profile.username)
        return cls(
            config=config,
            profile=profile,
            rest=rest,
            history=history,
            pool=pool,
            chats=DmChats(config, pool, history, profile),
            rooms=RoomManager(config, rest, history, profile),
        )

    async def close(self) -> None:
        await self.rooms.close()
        await self.pool.close()
        await self.rest.close()
