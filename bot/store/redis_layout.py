"""The Redis store's key layout version and its migrations, so a Redis written by an earlier release keeps its data.

The version is the integer under ``{prefix}schema`` (``RedisKeys.schema``; absent: 0, the first release's layout).
``MIGRATIONS[n - 1]`` takes the data from version n - 1 to n; the version is raised after each one. They run when
the store is opened, before it serves anything, on a plain (blocking) client: opening is start-up work, as
SQLite's is. Migrations name their keys through ``RedisKeys`` (``redis_keys``), whose strings never change.
Several processes may start on one Redis at once, so every migration must be idempotent (two running it
together is harmless) and the version only ever goes up.

Adding a migration: append a function, never edit one that has shipped, and add a fixture of the layout it
upgrades from to the upgrade test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from redis import Redis
from redis.client import Pipeline

from bot.ports import StoreVersionError
from bot.store.redis_keys import RedisKeys

Migration = Callable[[Redis, RedisKeys], None]

# Raise the version, never lower it (a slower process finishing an older migration must not undo a newer one).
_RAISE_VERSION = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
"""


def _participants(redis: Redis, keys: RedisKeys) -> None:
    """1: who has spoken in each conversation (``people:{member}``, a set of user ids) and, per user, the
    conversations they spoke in (``convs:spoke:{user}``, scored by when they last spoke there). Version 0 kept
    only each conversation's last speaker (``convs:user:{user}``, now gone): that much is backfilled; who spoke
    before them cannot be recovered (they are added again when they next speak)."""
    for member in cast(list[str], redis.zrange(keys.recent, 0, -1)):
        _backfill(redis, keys, member)
    stale = list(redis.scan_iter(match=_glob_literal(keys.last_spoken_v0("")) + "*", count=500))
    for start in range(0, len(stale), 500):
        redis.delete(*stale[start : start + 500])


def _backfill(redis: Redis, keys: RedisKeys, member: str) -> None:
    record = keys.record(member)

    def add(pipe: Pipeline) -> None:
        # Watching the record: a conversation deleted (or spoken in) meanwhile is read again, never resurrected.
        user = cast(str | None, pipe.hget(record, "user_id"))
        score = pipe.zscore(keys.recent, member)
        cast(Any, pipe).multi()  # (untyped in redis-py)
        if user and score is not None:
            pipe.zadd(keys.spoken_in(user), {member: score}, nx=True)
            pipe.sadd(keys.speakers(member), user)

    redis.transaction(add, record)


def _glob_literal(text: str) -> str:
    """``text`` as a SCAN MATCH pattern that matches only itself (the prefix may hold glob characters)."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _reply_journal(redis: Redis, keys: RedisKeys) -> None:
    """2: the reply journal (``reply:{id}``, ``replies:{owner}``). No key to convert; the version says that data
    holding open replies needs a release that finishes them."""


MIGRATIONS: tuple[Migration, ...] = (_participants, _reply_journal)
LATEST = len(MIGRATIONS)


def upgrade(redis: Redis, keys: RedisKeys) -> None:
    """Bring the data under the prefix to ``LATEST``; StoreVersionError if it is newer."""
    found = int(cast(str | None, redis.get(keys.schema)) or 0)
    if found > LATEST:
        raise StoreVersionError(
            f"the Redis state was written by a newer charbridge (layout version {found}; this release knows up "
            f"to {LATEST}): run that release or a later one"
        )
    for number in range(found + 1, LATEST + 1):
        MIGRATIONS[number - 1](redis, keys)
        redis.eval(_RAISE_VERSION, 1, keys.schema, str(number))
