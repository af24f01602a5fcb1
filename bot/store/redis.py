"""The Redis state store, for several processes (and machines) sharing one state.

Its keys are built by ``RedisKeys`` (``redis_keys``, where the layout is listed), its layout version and
migrations are ``redis_layout``'s. Every call goes through the store's ``reachability``: a Redis that refuses the
connection or does not answer within the timeouts (after the retries) raises ``StoreUnavailable``, quickly, so
users hear "try again in a moment" instead of waiting; the connection pool reconnects by itself when Redis is back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff

from bot.keys import MarkerKey, ValueKey
from bot.models import AuditEntry, Binding, ConversationRecord, Preset, ReplyRecord
from bot.ports import StateStore, StoreError
from bot.store.reachability import Reachability, reached
from bot.store.redis_keys import RedisKeys, conversation_member, platform_of
from bot.store.redis_layout import upgrade

AUDIT_CAP = 1000

# The reply journal's steps that must not bring a closed entry back: only an existing hash is written.
_NOTE_REPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'parts', ARGV[1], 'text', ARGV[2], 'final', ARGV[3])
return 1
"""
_CLAIM_REPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return redis.call('HMGET', KEYS[1], 'body', 'parts', 'text', 'final', 'attempts')
"""


@dataclass(frozen=True)
class RedisOptions:
    """How hard one call tries (``[storage]`` in the settings): seconds to connect, seconds for a command's
    reply, and how many more tries a failed call gets, ``retry_delay`` seconds apart. A Redis that is down
    refuses at once, so a call fails in about ``retries * retry_delay``; one that hangs takes the timeouts."""

    connect_timeout: float = 1.0
    command_timeout: float = 2.0
    retries: int = 1
    retry_delay: float = 0.1


def unreachable(exc: Exception) -> bool:
    """Redis is down, restarting (still loading its data), or does not answer; OSError: below redis-py."""
    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError)


class RedisStateStore(StateStore):
    """``clock`` gives the time in epoch seconds for when conversations were updated (Redis itself expires
    markers and values)."""

    def __init__(
        self,
        url: str,
        prefix: str = "charbridge:",
        clock: Callable[[], float] = time.time,
        options: RedisOptions | None = None,
    ) -> None:
        self._keys = RedisKeys(prefix)
        self._clock = clock
        self.reachability = Reachability(unreachable)
        opts = options or RedisOptions()
        connect, command = opts.connect_timeout, opts.command_timeout
        try:  # start-up work, as SQLite's
            with redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=connect, socket_timeout=command
            ) as blocking:
                upgrade(blocking, self._keys)
        except redis.RedisError as exc:
            raise StoreError(f"cannot use the Redis at storage.redis_url: {exc}") from None
        self._redis: Redis = Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=connect, socket_timeout=command,
            retry=Retry(ConstantBackoff(opts.retry_delay), opts.retries),
        )  # fmt: skip

    @reached
    async def ping(self) -> None:
        await cast(Any, self._redis.ping())

    # presets
    @reached
    async def get_preset(self, name: str) -> Preset | None:
        body = await self._redis.get(self._keys.preset(name))
        return Preset.model_validate_json(body) if body else None

    @reached
    async def put_preset(self, preset: Preset) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._keys.preset(preset.name), preset.model_dump_json())
            pipe.sadd(self._keys.presets, preset.name)
            await pipe.execute()

    @reached
    async def delete_preset(self, name: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.preset(name))
            pipe.srem(self._keys.presets, name)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    @reached
    async def list_presets(self) -> list[Preset]:
        names = sorted(await cast(Any, self._redis.smembers(self._keys.presets)))
        if not names:
            return []
        bodies = await self._redis.mget([self._keys.preset(n) for n in names])
        return [Preset.model_validate_json(b) for b in bodies if b]

    # bindings
    @reached
    async def get_binding(self, conversation: str) -> Binding | None:
        body = await self._redis.get(self._keys.binding(conversation))
        return Binding.model_validate_json(body) if body else None

    @reached
    async def put_binding(self, binding: Binding) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._keys.binding(binding.conversation), binding.model_dump_json())
            pipe.sadd(self._keys.bindings, binding.conversation)
            await pipe.execute()

    @reached
    async def delete_binding(self, conversation: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.binding(conversation))
            pipe.srem(self._keys.bindings, conversation)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    @reached
    async def list_bindings(self) -> list[Binding]:
        conversations = sorted(await cast(Any, self._redis.smembers(self._keys.bindings)))
        if not conversations:
            return []
        bodies = await self._redis.mget([self._keys.binding(c) for c in conversations])
        return [Binding.model_validate_json(b) for b in bodies if b]

    # upstream chat ids
    @reached
    async def get_chat_id(self, conversation: str, who: str) -> str | None:
        value = await cast(Any, self._redis.hget(self._keys.chats(conversation), who))
        return cast(str | None, value)

    @reached
    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None:
        await cast(Any, self._redis.hset(self._keys.chats(conversation), who, chat_id))

    @reached
    async def clear_chat_ids(self, conversation: str) -> int:
        key = self._keys.chats(conversation)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hlen(key)
            pipe.delete(key)
            count, _ = await pipe.execute()
        return int(count)

    @reached
    async def list_chat_ids(self, conversation: str) -> dict[str, str]:
        return dict(await cast(Any, self._redis.hgetall(self._keys.chats(conversation))))

    # conversation activity
    @reached
    async def record_turn(self, conversation: str, who: str, user_id: str, preset: str, last_message: str) -> None:
        member = conversation_member(conversation, who)
        key = self._keys.record(member)
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
            pipe.zadd(self._keys.recent, score)
            pipe.zadd(self._keys.recent_in(conversation), score)
            pipe.zadd(self._keys.recent_on(platform_of(conversation)), score)
            pipe.sadd(self._keys.speakers(member), user_id)
            pipe.zadd(self._keys.spoken_in(user_id), score)
            await pipe.execute()

    @reached
    async def get_conversation(self, conversation: str, who: str) -> ConversationRecord | None:
        return await self._record(conversation_member(conversation, who))

    async def _record(self, member: str) -> ConversationRecord | None:
        fields = await cast(Any, self._redis.hgetall(self._keys.record(member)))
        return ConversationRecord.model_validate(fields) if fields else None

    @reached
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
            filters.append(self._keys.spoken_in(user_id))
        if conversation is not None:
            filters.append(self._keys.recent_in(conversation))
        if platform is not None:
            filters.append(self._keys.recent_on(platform))
        if not filters or (len(filters) == 1 and user_id is None):
            index = filters[0] if filters else self._keys.recent
            total = int(await self._redis.zcard(index))
            members = cast(list[str], await self._redis.zrevrange(index, offset, offset + limit - 1))
        else:
            weights = {self._keys.recent: 1} | dict.fromkeys(filters, 0)
            scored = cast(list[tuple[str, float]], await self._redis.zinter(weights, aggregate="SUM", withscores=True))
            # ZREVRANGE's order: by score, ties by member, both descending
            ranked = sorted(scored, key=lambda pair: (pair[1], pair[0]), reverse=True)
            total = len(ranked)
            members = [member for member, _ in ranked[offset : offset + limit]]
        records = [await self._record(member) for member in members]
        return [r for r in records if r is not None], total

    @reached
    async def delete_conversation(self, conversation: str, who: str) -> bool:
        member = conversation_member(conversation, who)
        people = self._keys.speakers(member)

        async def delete(pipe: Pipeline) -> None:
            # Watching the participants: one who speaks meanwhile is read again, so no index keeps them.
            speakers = await cast(Any, pipe.smembers(people))
            cast(Any, pipe).multi()  # (untyped in redis-py)
            pipe.delete(self._keys.record(member))
            pipe.hdel(self._keys.chats(conversation), who)
            pipe.zrem(self._keys.recent, member)
            pipe.zrem(self._keys.recent_in(conversation), member)
            pipe.zrem(self._keys.recent_on(platform_of(conversation)), member)
            for user_id in sorted(speakers):
                pipe.zrem(self._keys.spoken_in(user_id), member)
            pipe.delete(people)

        deleted, *_ = await self._redis.transaction(delete, people)
        return bool(deleted)

    # markers
    @reached
    async def mark_once(self, key: MarkerKey, ttl_seconds: float) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(await self._redis.set(self._keys.marker(key), "1", nx=True, px=ttl_ms))

    # values with a lifetime
    @reached
    async def put_value(self, key: ValueKey, value: str, ttl_seconds: float) -> None:
        await self._redis.set(self._keys.value(key), value, px=max(1, int(ttl_seconds * 1000)))

    @reached
    async def get_value(self, key: ValueKey) -> str | None:
        value = await self._redis.get(self._keys.value(key))
        return str(value) if value is not None else None

    # audit
    @reached
    async def append_audit(self, entry: AuditEntry) -> None:
        body = entry.model_dump_json()
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (self._keys.audit, self._keys.audit_of(entry.conversation)):
                pipe.lpush(key, body)
                pipe.ltrim(key, 0, AUDIT_CAP - 1)
            await pipe.execute()

    @reached
    async def list_audit(self, limit: int = 20, conversation: str | None = None) -> list[AuditEntry]:
        key = self._keys.audit if conversation is None else self._keys.audit_of(conversation)
        bodies = await cast(Any, self._redis.lrange(key, 0, limit - 1))
        return [AuditEntry.model_validate_json(b) for b in bodies]

    # the reply journal
    async def open_reply(self, record: ReplyRecord) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.reply(record.reply_id))
            pipe.hset(
                self._keys.reply(record.reply_id),
                mapping={
                    "body": record.model_dump_json(),
                    "parts": json.dumps(record.parts),
                    "text": record.text,
                    "final": int(record.final),
                    "attempts": record.attempts,
                },
            )
            pipe.zadd(self._keys.replies_of(record.owner), {record.reply_id: record.opened_at.timestamp()})
            await pipe.execute()

    async def note_reply(self, reply_id: str, parts: list[str], text: str, final: bool) -> bool:
        key = self._keys.reply(reply_id)
        done = await cast(Any, self._redis.eval(_NOTE_REPLY, 1, key, json.dumps(parts), text, int(final)))
        return bool(done)

    async def claim_reply(self, reply_id: str) -> ReplyRecord | None:
        found = await cast(Any, self._redis.eval(_CLAIM_REPLY, 1, self._keys.reply(reply_id)))
        return _reply(found) if found else None

    async def close_reply(self, reply_id: str) -> bool:
        key = self._keys.reply(reply_id)
        body = await cast(Any, self._redis.hget(key, "body"))
        if body is None:
            return False
        owner = ReplyRecord.model_validate_json(body).owner
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.zrem(self._keys.replies_of(owner), reply_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def open_replies(self, owner: str) -> list[ReplyRecord]:
        ids = cast(list[str], await self._redis.zrange(self._keys.replies_of(owner), 0, -1))
        found: list[ReplyRecord] = []
        for reply_id in ids:
            fields = await cast(Any, self._redis.hmget(self._keys.reply(reply_id), _REPLY_FIELDS))
            if fields[0] is not None:
                found.append(_reply(fields))
        return found

    async def close(self) -> None:
        await self._redis.aclose()


_REPLY_FIELDS = ["body", "parts", "text", "final", "attempts"]


def _reply(fields: list[str]) -> ReplyRecord:
    """An entry of the reply journal: what was opened, with its progress since."""
    body, parts, text, final, attempts = fields
    progress = {"parts": json.loads(parts), "text": text, "final": final == "1", "attempts": int(attempts)}
    return ReplyRecord.model_validate_json(body).model_copy(update=progress)
