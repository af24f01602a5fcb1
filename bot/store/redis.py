"""The Redis state store, for several processes (and machines) sharing one state.

Keys (all under a configurable prefix):
  preset:{name} -> JSON        presets            (set of names)
  binding:{conversation} -> JSON   bindings       (set of conversations)
  chats:{conversation} -> hash who -> chat id
  conv:{member} -> hash (fields of ConversationRecord), member = JSON [conversation, who]
  convs, convs:user:{user_id}, convs:in:{conversation}, convs:platform:{platform} -> sorted sets of
    members by last update
  marker:{key} -> "1" with a TTL (SET NX PX)
  value:{key} -> string with a TTL (SET PX)
  audit -> list of JSON, newest first, capped;  audit:{conversation} likewise
"""

from __future__ import annotations

import json
from typing import Any, cast

from redis.asyncio import Redis

from bot.models import AuditEntry, Binding, ConversationRecord, Preset, utcnow
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

    # conversation activity
    @staticmethod
    def _member(conversation: str, who: str) -> str:
        return json.dumps([conversation, who])

    async def record_turn(self, conversation: str, who: str, user_id: str, preset: str, last_message: str) -> None:
        member = self._member(conversation, who)
        key = self._k("conv", member)
        previous_user = await cast(Any, self._redis.hget(key, "user_id"))
        now = utcnow()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "message_count", 2)
            pipe.hset(
                key,
                mapping={
                    "conversation": conversation,
                    "who": who,
                    "user_id": user_id,
                    "preset": preset,
                    "last_message": last_message,
                    "updated_at": now.isoformat(),
                },
            )
            score = {member: now.timestamp()}
            pipe.zadd(self._k("convs"), score)
            pipe.zadd(self._k("convs", "user", user_id), score)
            pipe.zadd(self._k("convs", "in", conversation), score)
            pipe.zadd(self._k("convs", "platform", conversation.partition(":")[0]), score)
            if previous_user and previous_user != user_id:
                pipe.zrem(self._k("convs", "user", previous_user), member)
            await pipe.execute()

    async def get_conversation(self, conversation: str, who: str) -> ConversationRecord | None:
        fields = await cast(Any, self._redis.hgetall(self._k("conv", self._member(conversation, who))))
        return ConversationRecord.model_validate(fields) if fields else None

    async def list_conversations(
        self,
        user_id: str | None = None,
        conversation: str | None = None,
        limit: int = 20,
        offset: int = 0,
        platform: str | None = None,
    ) -> tuple[list[ConversationRecord], int]:
        # The most specific index answers; any further filter is applied to what it holds.
        if conversation is not None:
            index = self._k("convs", "in", conversation)
        elif user_id is not None:
            index = self._k("convs", "user", user_id)
        elif platform is not None:
            index = self._k("convs", "platform", platform)
        else:
            index = self._k("convs")
        filters = sum(f is not None for f in (user_id, conversation, platform))
        if filters > 1:
            members = cast(list[str], await self._redis.zrevrange(index, 0, -1))
            records = [
                r
                for r in await self._records(members)
                if (user_id is None or r.user_id == user_id) and (platform is None or _platform(r) == platform)
            ]
            return records[offset : offset + limit], len(records)
        total = await self._redis.zcard(index)
        members = cast(list[str], await self._redis.zrevrange(index, offset, offset + limit - 1))
        return await self._records(members), int(total)

    async def _records(self, members: list[str]) -> list[ConversationRecord]:
        records = [await self.get_conversation(*json.loads(m)) for m in members]
        return [r for r in records if r is not None]

    async def delete_conversation(self, conversation: str, who: str) -> bool:
        member = self._member(conversation, who)
        key = self._k("conv", member)
        user_id = await cast(Any, self._redis.hget(key, "user_id"))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hdel(self._k("chats", conversation), who)
            pipe.zrem(self._k("convs"), member)
            pipe.zrem(self._k("convs", "in", conversation), member)
            pipe.zrem(self._k("convs", "platform", conversation.partition(":")[0]), member)
            if user_id:
                pipe.zrem(self._k("convs", "user", user_id), member)
            deleted, *_ = await pipe.execute()
        return bool(deleted)

    # markers
    async def mark_once(self, key: str, ttl_seconds: float) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(await self._redis.set(self._k("marker", key), "1", nx=True, px=ttl_ms))

    # values with a lifetime
    async def put_value(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._redis.set(self._k("value", key), value, px=max(1, int(ttl_seconds * 1000)))

    async def get_value(self, key: str) -> str | None:
        value = await self._redis.get(self._k("value", key))
        return str(value) if value is not None else None

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


def _platform(record: ConversationRecord) -> str:
    return record.conversation.partition(":")[0]
