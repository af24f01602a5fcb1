"""The Redis state store, for several processes (and machines) sharing one state.

Keys (all under a configurable prefix):
  preset:{name} -> JSON        presets            (set of names)
  binding:{conversation} -> JSON   bindings       (set of conversations)
  chats:{conversation} -> hash who -> chat id
  marker:{key} -> "1" with a TTL (SET NX PX)
  audit -> list of JSON, newest first, capped;  audit:{conversation} likewise
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

from bot.models import AuditEntry, Binding, Preset
from bot.ports import StateStore

AUDIT_CAP = 1000


class RedisStateStore(StateStore):
    def __init__(self, url: str, prefix: str = "charbridge:") -> None:
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self._p = prefix

    def _k(self, *parts: str) -> str:
        return self._p + ":".join(parts)

    async def ping(self) -> None:
        await cast(Any, self._redis.ping())

    # presets
    async def get_preset(self, name: str) -> Preset | None:
        body = await self._redis.get(self._k("preset", name))
        return Preset.model_validate_json(body) if body else None

    async def put_preset(self, preset: Preset) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._k("preset", preset.name), preset.model_dump_json())
            pipe.sadd(self._k("presets"), preset.name)
            await pipe.execute()

    async def delete_preset(self, name: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._k("preset", name))
            pipe.srem(self._k("presets"), name)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def list_presets(self) -> list[Preset]:
        names = sorted(await cast(Any, self._redis.smembers(self._k("presets"))))
        if not names:
            return []
        bodies = await self._redis.mget([self._k("preset", n) for n in names])
        return [Preset.model_validate_json(b) for b in bodies if b]

    # bindings
    async def get_binding(self, conversation: str) -> Binding | None:
        body = await self._redis.get(self._k("binding", conversation))
        return Binding.model_validate_json(body) if body else None

    async def put_binding(self, binding: Binding) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._k("binding", binding.conversation), binding.model_dump_json())
            pipe.sadd(self._k("bindings"), binding.conversation)
            await pipe.execute()

    async def delete_binding(self, conversation: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._k("binding", conversation))
            pipe.srem(self._k("bindings"), conversation)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def list_bindings(self) -> list[Binding]:
        keys = sorted(await cast(Any, self._redis.smembers(self._k("bindings"))))
        if not keys:
            return []
        bodies = await self._redis.mget([self._k("binding", c) for c in keys])
        return [Binding.model_validate_json(b) for b in bodies if b]

    # upstream chat ids
    async def get_chat_id(self, conversation: str, who: str) -> str | None:
        value = await cast(Any, self._redis.hget(self._k("chats", conversation), who))
        return cast(str | None, value)

    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None:
        await cast(Any, self._redis.hset(self._k("chats", conversation), who, chat_id))

    async def clear_chat_ids(self, conversation: str) -> int:
        key = self._k("chats", conversation)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hlen(key)
            pipe.delete(key)
            count, _ = await pipe.execute()
        return int(count)

    async def list_chat_ids(self, conversation: str) -> dict[str, str]:
        return dict(await cast(Any, self._redis.hgetall(self._k("chats", conversation))))

    # markers
    async def mark_once(self, key: str, ttl_seconds: float) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(await self._redis.set(self._k("marker", key), "1", nx=True, px=ttl_ms))

    # audit
    async def append_audit(self, entry: AuditEntry) -> None:
        body = entry.model_dump_json()
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (self._k("audit"), self._k("audit", entry.conversation)):
                pipe.lpush(key, body)
                pipe.ltrim(key, 0, AUDIT_CAP - 1)
            await pipe.execute()

    async def list_audit(self, limit: int = 20, conversation: str | None = None) -> list[AuditEntry]:
        key = self._k("audit") if conversation is None else self._k("audit", conversation)
        bodies = await cast(Any, self._redis.lrange(key, 0, limit - 1))
        return [AuditEntry.model_validate_json(b) for b in bodies]

    async def close(self) -> None:
        await self._redis.aclose()
