"""The Redis state store, for several processes (and machines) sharing one state.

Keys (all under a configurable prefix):
  schema -> the layout version (``redis_layout``: brought up to date when the store is opened)
  preset:{name} -> JSON        presets            (set of names)
  binding:{conversation} -> JSON   bindings       (set of conversations)
  chats:{conversation} -> hash who -> chat id
  conv:{member} -> hash (fields of ConversationRecord), member = JSON [conversation, who]
  convs, convs:in:{conversation}, convs:platform:{platform} -> sorted sets of members by last update
  people:{member} -> set of the user ids who spoke in it
  convs:spoke:{user_id} -> sorted set of the members the user spoke in, by when they last did
  marker:{key} -> "1" with a TTL (SET NX PX)
  value:{key} -> string with a TTL (SET PX)
  audit -> list of JSON, newest first, capped;  audit:{conversation} likewise
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import redis
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bot.models import AuditEntry, Binding, ConversationRecord, Preset
from bot.ports import StateStore, StoreError
from bot.store.redis_layout import conversation_member, upgrade

AUDIT_CAP = 1000


class RedisStateStore(StateStore):
    """``clock`` gives the time in epoch seconds for when conversations were updated (Redis itself expires
    markers and values)."""

    def __init__(self, url: str, prefix: str = "charbridge:", clock: Callable[[], float] = time.time) -> None:
        self._p = prefix
        self._clock = clock
        try:
            with redis.Redis.from_url(url, decode_responses=True) as blocking:  # start-up work, as SQLite's
                upgrade(blocking, self._k)
        except redis.RedisError as exc:
            raise StoreError(f"cannot use the Redis at storage.redis_url: {exc}") from None
        self._redis: Redis = Redis.from_url(url, decode_responses=True)

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
    async def record_turn(self, conversation: str, who: str, user_id: str, preset: str, last_message: str) -> None:
        member = conversation_member(conversation, who)
        key = self._k("conv", member)
        now = datetime.fromtimestamp(self._clock(), UTC)
        score = {member: now.timestamp()}
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
            pipe.zadd(self._k("convs"), score)
            pipe.zadd(self._k("convs", "in", conversation), score)
            pipe.zadd(self._k("convs", "platform", conversation.partition(":")[0]), score)
            pipe.sadd(self._k("people", member), user_id)
            pipe.zadd(self._k("convs", "spoke", user_id), score)
            await pipe.execute()

    async def get_conversation(self, conversation: str, who: str) -> ConversationRecord | None:
        return await self._record(conversation_member(conversation, who))

    async def _record(self, member: str) -> ConversationRecord | None:
        fields = await cast(Any, self._redis.hgetall(self._k("conv", member)))
        return ConversationRecord.model_validate(fields) if fields else None

    async def list_conversations(
        self,
        user_id: str | None = None,
        conversation: str | None = None,
        limit: int = 20,
        offset: int = 0,
        platform: str | None = None,
    ) -> tuple[list[ConversationRecord], int]:
        # Every index holds members; "convs" and the per-conversation and per-platform ones are scored by the
        # last update. One of those alone is read a page at a time; filters together (or a user's index, whose
        # scores are that user's own times) are intersected with "convs" weighing 0, so the last update orders.
        filters: list[str] = []
        if user_id is not None:
            filters.append(self._k("convs", "spoke", user_id))
        if conversation is not None:
            filters.append(self._k("convs", "in", conversation))
        if platform is not None:
            filters.append(self._k("convs", "platform", platform))
        if not filters or (len(filters) == 1 and user_id is None):
            index = filters[0] if filters else self._k("convs")
            total = int(await self._redis.zcard(index))
            members = cast(list[str], await self._redis.zrevrange(index, offset, offset + limit - 1))
        else:
            weights = {self._k("convs"): 1} | dict.fromkeys(filters, 0)
            scored = cast(list[tuple[str, float]], await self._redis.zinter(weights, aggregate="SUM", withscores=True))
            # ZREVRANGE's order: by score, ties by member, both descending
            ranked = sorted(scored, key=lambda pair: (pair[1], pair[0]), reverse=True)
            total = len(ranked)
            members = [member for member, _ in ranked[offset : offset + limit]]
        records = [await self._record(member) for member in members]
        return [r for r in records if r is not None], total

    async def delete_conversation(self, conversation: str, who: str) -> bool:
        member = conversation_member(conversation, who)
        people = self._k("people", member)

        async def delete(pipe: Pipeline) -> None:
            # Watching the participants: one who speaks meanwhile is read again, so no index keeps them.
            speakers = await cast(Any, pipe.smembers(people))
            cast(Any, pipe).multi()  # (untyped in redis-py)
            pipe.delete(self._k("conv", member))
            pipe.hdel(self._k("chats", conversation), who)
            pipe.zrem(self._k("convs"), member)
            pipe.zrem(self._k("convs", "in", conversation), member)
            pipe.zrem(self._k("convs", "platform", conversation.partition(":")[0]), member)
            for user_id in sorted(speakers):
                pipe.zrem(self._k("convs", "spoke", user_id), member)
            pipe.delete(people)

        deleted, *_ = await self._redis.transaction(delete, people)
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
