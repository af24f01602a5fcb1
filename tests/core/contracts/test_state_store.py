"""The StateStore as a whole: opening it refuses data of a newer layout and reports what it cannot open in one line,
and the Redis store files everything under the key layout earlier releases wrote (``bot.store.redis_keys``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import redis

from bot.errors import StartupError
from bot.keys import LastNpcSpeaker, Notice, NpcAuthor, Seen
from bot.models import AuditEntry, Binding, Preset, ReplyRecord, ReplyTarget
from bot.ports import EVERYONE, StoreVersionError
from bot.store.redis import RedisStateStore
from bot.store.sqlite import SqliteStateStore
from charbridge.app import open_store, sqlite_path
from config.settings import BridgeSettings, Settings
from tests.conftest import free_port


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_data_of_a_newer_layout_is_refused(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A downgrade must not read (or write) data it does not understand."""
    if kind == "sqlite":
        path = tmp_path / "state.sqlite3"
        await SqliteStateStore(path).close()  # the file, at this release's version
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
        with pytest.raises(StoreVersionError, match=r"newer charbridge.*version 99"):
            SqliteStateStore(path)
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    client.set("test:schema", 99)
    client.close()
    with pytest.raises(StoreVersionError, match=r"newer charbridge.*version 99"):
        RedisStateStore(url, prefix="test:")


async def test_the_redis_key_layout_is_the_one_earlier_releases_wrote(redis_url: str) -> None:
    """One write through every port, then the keys as Redis holds them: exactly the documented layout, so data
    written by an earlier release is found (tests/http/test_upgrade.py opens such data)."""
    store = RedisStateStore(redis_url, prefix="test:")
    try:
        await store.put_preset(Preset(name="kira", character_id="char-1"))
        await store.put_binding(Binding(conversation="telegram:-100", preset="kira", bound_by="telegram:1"))
        await store.set_chat_id("telegram:-100", EVERYONE, "chat-1")
        await store.record_turn("telegram:-100", EVERYONE, "telegram:1", "kira", "hello")
        await store.mark_once(Seen("telegram:-100:1"), ttl_seconds=600)
        await store.mark_once(Notice("discord", "missing_permission", "7"), ttl_seconds=600)
        await store.put_value(LastNpcSpeaker("telegram:-100"), "ada", ttl_seconds=600)
        await store.put_value(NpcAuthor("telegram:-100:5"), "ada", ttl_seconds=600)
        await store.append_audit(AuditEntry(actor="telegram:1", conversation="telegram:-100", action="use"))
        await store.open_reply(
            ReplyRecord(
                reply_id="telegram:-100:1", owner="telegram:7", run="r", conversation="telegram:-100", who=EVERYONE,
                preset="kira", target=ReplyTarget(platform="telegram", chat="-100"),
            )
        )  # fmt: skip
    finally:
        await store.close()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = sorted(client.scan_iter(match="*"))
    finally:
        client.close()
    member = '["telegram:-100", "*"]'
    assert keys == sorted(
        [
            "test:schema",
            "test:preset:kira",
            "test:presets",
            "test:binding:telegram:-100",
            "test:bindings",
            "test:chats:telegram:-100",
            f"test:conv:{member}",
            "test:convs",
            "test:convs:in:telegram:-100",
            "test:convs:platform:telegram",
            f"test:people:{member}",
            "test:convs:spoke:telegram:1",
            "test:marker:seen:telegram:-100:1",
            "test:marker:discord:notice:missing_permission:7",
            "test:value:npc:last:telegram:-100",
            "test:value:npc:msg:telegram:-100:5",
            "test:audit",
            "test:audit:telegram:-100",
            "test:reply:telegram:-100:1",
            "test:replies:telegram:7",
        ]
    )


def test_charbridge_run_reports_a_newer_sqlite_file_in_one_line(tmp_path: Path) -> None:
    settings = Settings(bridge=BridgeSettings(data_dir=tmp_path))
    sqlite_path(settings).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(sqlite_path(settings)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StartupError, match=r"^the SQLite state was written by a newer charbridge \(schema version 99"):
        open_store(settings)


def test_charbridge_run_reports_an_unreachable_redis_in_one_line(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(bridge=BridgeSettings(data_dir=tmp_path), storage={"redis_url": url})
    with pytest.raises(StartupError, match=r"^cannot use the Redis at storage.redis_url: .*refused"):
        open_store(settings)
