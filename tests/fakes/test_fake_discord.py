"""The fake Discord against the real discord.py 2.7 client, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands

from sandbox.fakes.discord import BucketLimit, FakeDiscord, FakeDiscordConfig

TOKEN = "test-token"
ChatBehaviour = Callable[[discord.Interaction, str], Awaitable[object]]


class RecordingClient(discord.Client):
    """A plain discord.py client with a `/chat message:` command whose body each test chooses."""

    def __init__(self, *, message_content: bool = True, heartbeat_timeout: float = 5.0) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(intents=intents, guild_ready_timeout=0.1, heartbeat_timeout=heartbeat_timeout)
        self.tree = app_commands.CommandTree(self)
        self.received: list[discord.Message] = []
        self.raw_edits: list[discord.RawMessageUpdateEvent] = []
        self.ready_count = 0
        self.resumed = asyncio.Event()
        self.command_errors: list[BaseException] = []
        self.chat_behaviour: ChatBehaviour | None = None

        @self.tree.command(name="chat", description="Talk to the character")
        async def chat(interaction: discord.Interaction, message: str) -> None:
            assert self.chat_behaviour is not None
            await self.chat_behaviour(interaction, message)

        @self.tree.error
        async def record_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            self.command_errors.append(error.__cause__ or error)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Public hook; the default sleeps 5 s before every re-IDENTIFY, too slow for tests."""

    async def on_ready(self) -> None:
        self.ready_count += 1

    async def on_message(self, message: discord.Message) -> None:
        self.received.append(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.raw_edits.append(payload)

    async def on_resumed(self) -> None:
        self.resumed.set()


def fast_config(**overrides: Any) -> FakeDiscordConfig:
    return FakeDiscordConfig(**{"heartbeat_interval": 0.5, **overrides})


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(fast_config()) as server:
        yield server


async def start_client(
    fake: FakeDiscord, *, message_content: bool = True, heartbeat_timeout: float = 5.0
) -> tuple[RecordingClient, asyncio.Task[None]]:
    # the two settings a client needs to talk to the fake (see sandbox/fakes/discord/__init__.py)
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    client = RecordingClient(message_content=message_content, heartbeat_timeout=heartbeat_timeout)
    task = asyncio.create_task(client.start(TOKEN))
    await asyncio.wait_for(client.wait_until_ready(), 5)
    return client, task


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[RecordingClient]:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    client, task = await start_client(fake)
    yield client
    await client.close()
    await task
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


def text_channel(bot: RecordingClient, fake: FakeDiscord, name: str = "general") -> discord.TextChannel:
    channel = bot.get_channel(fake.channel(name).id)
    assert isinstance(channel, discord.TextChannel)
    return channel


# --- login, READY, GUILD_CREATE ---------------------------------------------------------------------
async def test_login_ready_and_guild_cache(fake: FakeDiscord, bot: RecordingClient) -> None:
    assert bot.user is not None and bot.user.id == fake.bot.id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(fake.guild.id)
    assert guild is not None and guild.name == "Test Guild"
    assert {c.name for c in guild.text_channels} == {"general", "random"}
    assert [t.name for t in guild.threads] == ["chat-thread"]
    assert guild.me.guild_permissions.manage_webhooks
    assert text_channel(bot, fake).permissions_for(guild.me).send_messages
    assert fake.gateway.stats.last_intents == bot.intents.value
    assert fake.counters().identifies == 1
    assert [r.route for r in fake.calls("GET")][:2] == ["/users/@me", "/oauth2/applications/@me"]


async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    discord.http.Route.BASE = fake.api_base
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fake.calls("GET", "/users/@me")[-1].status == 401


async def test_zlib_stream_frames_work() -> None:
    async with FakeDiscord(fast_config(zlib_stream=True)) as server:
        client, task = await start_client(server)
        await server.user_sends("general", "alice", "compressed hello")
        await server.wait_for(lambda: any(m.content == "compressed hello" for m in client.received))
        await client.close()
        await task


async def test_message_content_intent_is_enforced_when_asked() -> None:
    async with FakeDiscord(fast_config(enforce_message_content_intent=True)) as server:
        client, task = await start_client(server, message_content=False)
        await server.user_sends("general", "alice", "you cannot read this")
        await server.user_sends("general", "alice", "but this mentions you", mention_bot=True)
        await server.dm("bob", "and DMs are readable")
        await server.wait_for(lambda: len(client.received) == 3)
        assert [m.content for m in client.received] == [
            "",
            f"<@{server.bot.id}> but this mentions you",
            "and DMs are readable",
        ]
        await client.close()
        await task


# --- inbound messages -------------------------------------------------------------------------------
async def test_injected_messages_reach_on_message(fake: FakeDiscord, bot: RecordingClient) -> None:
    first = await fake.user_sends("general", "alice", "hello bot", mention_bot=True)
    await fake.user_sends("general", "bob", "replying", reply_to=first)
    await fake.user_sends("chat-thread", "alice", "in a thread")
    await fake.dm("bob", "a private word")
    await fake.wait_for(lambda: len(bot.received) == 4)
    mention, reply, threaded, direct = bot.received
    assert bot.user is not None and bot.user.mentioned_in(mention)
    assert isinstance(mention.author, discord.Member) and mention.author.name == "alice"
    assert reply.reference is not None and reply.reference.message_id == first.id
    assert not bot.user.mentioned_in(reply)
    assert isinstance(threaded.channel, discord.Thread) and threaded.channel.parent_id == fake.channel("general").id
    assert isinstance(direct.channel, discord.DMChannel) and direct.guild is None
    assert direct.content == "a private word"


async def test_reply_to_bot_mentions_it(fake: FakeDiscord, bot: RecordingClient) -> None:
    sent = await text_channel(bot, fake).send("I am the bot")
    await fake.user_sends("general", "alice", "answering you", reply_to=sent.id)
    await fake.wait_for(lambda: any(m.content == "answering you" for m in bot.received))
    assert bot.user is not None and bot.user.mentioned_in(bot.received[-1])


# --- bot writes -------------------------------------------------------------------------------------
async def test_send_and_edit_are_recorded_and_echoed(fake: FakeDiscord, bot: RecordingClient) -> None:
    sent = await text_channel(bot, fake).send("draft")
    await sent.edit(content="draft, longer")
    await sent.edit(content="final text")
    [view] = fake.transcript("general")
    assert view.content == "final text" and view.author_id == fake.bot.id
    assert [v.content for v in view.versions] == ["draft", "draft, longer", "final text"]
    assert view.versions[0].at <= view.versions[1].at <= view.versions[2].at
    await fake.wait_for(lambda: len(bot.raw_edits) == 2 and bot.received)
    assert bot.received[0].id == sent.id and bot.received[0].author == bot.user
    assert bot.raw_edits[-1].data["content"] == "final text"


async def test_allowed_mentions_decide_who_is_pinged(fake: FakeDiscord, bot: RecordingClient) -> None:
    alice = fake.user("alice")
    content = f"@everyone <@{alice.id}>"
    channel = text_channel(bot, fake)
    quiet = await channel.send(content, allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(content)
    only_alice = await channel.send(content, allowed_mentions=discord.AllowedMentions(everyone=False))
    fans = next(r for r in fake.guild.roles.values() if r.name == "fans")
    role_ping = await channel.send(f"<@&{fans.id}> hello")
    assert fake.message_view(role_ping.id).pings.roles == [fans.id]
    assert not fake.message_view(quiet.id).pings.anyone
    assert fake.message_view(loud.id).pings.everyone and fake.message_view(loud.id).pings.users == [alice.id]
    assert fake.message_view(only_alice.id).pings.users == [alice.id]
    assert not fake.message_view(only_alice.id).pings.everyone
    assert quiet.mentions == [] and not quiet.mention_everyone


async def test_content_over_2000_chars_is_rejected(fake: FakeDiscord, bot: RecordingClient) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await text_channel(bot, fake).send("x" * 2001)
    assert caught.value.status == 400 and caught.value.code == 50035
    assert "2000 or fewer" in caught.value.text
    assert fake.transcript("general") == []
    await text_channel(bot, fake).send("x" * 2000)
    assert len(fake.transcript("general")) == 1


async def test_history_and_fetch_message(fake: FakeDiscord, bot: RecordingClient) -> None:
    first = await fake.user_sends("general", "alice", "first")
    await fake.user_sends("general", "bob", "second", reply_to=first)
    await text_channel(bot, fake).send("third")
    history = [m.content async for m in text_channel(bot, fake).history(limit=10)]
    assert history == ["third", "second", "first"]
    older = [m.content async for m in text_channel(bot, fake).history(before=discord.Object(first.id + 1))]
    assert older == ["first"]
    fetched = await text_channel(bot, fake).fetch_message(first.id)
    assert fetched.content == "first" and fetched.author.name == "alice"
    with pytest.raises(discord.NotFound):
        await text_channel(bot, fake).fetch_message(first.id + 12345)


async def test_delete_is_recorded_and_echoed(fake: FakeDiscord, bot: RecordingClient) -> None:
    sent = await text_channel(bot, fake).send("oops")
    echoed = asyncio.ensure_future(bot.wait_for("raw_message_delete", timeout=5))
    await sent.delete()
    assert (await echoed).message_id == sent.id
    assert fake.transcript("general") == []
    assert [m.deleted for m in fake.transcript("general", include_deleted=True)] == [True]


async def test_typing_and_dm_from_bot(fake: FakeDiscord, bot: RecordingClient) -> None:
    async with text_channel(bot, fake).typing():
        pass
    user = await bot.fetch_user(fake.user("bob").id)
    await user.send("hello in private")
    dm = fake.dm_channel("bob")
    assert dm is not None and [m.content for m in fake.transcript(dm)] == ["hello in private"]
    assert fake.counters().typing == 1


# --- webhooks ---------------------------------------------------------------------------------------
async def test_webhook_create_reuse_execute_and_edit(fake: FakeDiscord, bot: RecordingClient) -> None:
    channel = text_channel(bot, fake)
    created = await channel.create_webhook(name="charbridge")
    reused = next(hook for hook in await channel.webhooks() if hook.name == "charbridge")
    assert reused.id == created.id and reused.token == created.token
    sent = await reused.send("Hello, I am Luna", username="Luna", avatar_url="http://img/luna.png", wait=True)
    assert sent.webhook_id == created.id and sent.author.name == "Luna"
    await sent.edit(content="Hello, I am Luna, the moon")
    [view] = fake.transcript("general")
    assert view.webhook_id == created.id and view.author_name == "Luna"
    assert view.avatar_url == "http://img/luna.png"
    assert [v.content for v in view.versions] == ["Hello, I am Luna", "Hello, I am Luna, the moon"]
    await fake.wait_for(lambda: any(m.webhook_id == created.id for m in bot.received))
    thread = channel.guild.get_thread(fake.channel("chat-thread").id)
    assert thread is not None
    in_thread = await reused.send("in the thread", username="Luna", thread=thread, wait=True)
    assert [m.content for m in fake.transcript("chat-thread")] == ["in the thread"]
    await in_thread.delete()
    assert fake.transcript("chat-thread") == []


async def test_webhook_cap_is_15_per_channel(fake: FakeDiscord, bot: RecordingClient) -> None:
    channel = text_channel(bot, fake)
    for index in range(15):
        await channel.create_webhook(name=f"persona-{index}")
    with pytest.raises(discord.HTTPException) as caught:
        await channel.create_webhook(name="one too many")
    assert caught.value.status == 400 and caught.value.code == 30007
    assert len(await text_channel(bot, fake, "random").webhooks()) == 0


async def test_manage_webhooks_off_gives_forbidden(fake: FakeDiscord, bot: RecordingClient) -> None:
    channel = text_channel(bot, fake)
    await fake.set_manage_webhooks("general", False)
    await fake.wait_for(lambda: not channel.permissions_for(channel.guild.me).manage_webhooks)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.create_webhook(name="charbridge")
    assert caught.value.code == 50013
    await text_channel(bot, fake, "random").create_webhook(name="still fine elsewhere")
    await fake.set_manage_webhooks("general", True)
    await channel.create_webhook(name="allowed again")


# --- interactions -----------------------------------------------------------------------------------
async def test_slash_defer_edit_original_and_followup(fake: FakeDiscord, bot: RecordingClient) -> None:
    await bot.tree.sync()
    assert [c["name"] for c in fake.global_commands] == ["chat"]

    async def answer(interaction: discord.Interaction, message: str) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content=f"thinking about {message}")
        await interaction.edit_original_response(content=f"You said: {message}")
        await interaction.followup.send("and one more thing")

    bot.chat_behaviour = answer
    record = await fake.slash("general", "alice", "chat", message="hi there")
    await fake.wait_for(lambda: record.followup_ids)
    view = fake.interaction_view(record)
    assert view.acknowledged and view.ack_type == 5
    assert view.ack_delay is not None and view.ack_delay < fake.config.ack_deadline
    original, followup = fake.transcript("general")
    assert original.id == view.original_message_id and original.content == "You said: hi there"
    assert [v.content for v in original.versions] == ["", "thinking about hi there", "You said: hi there"]
    assert followup.content == "and one more thing" and followup.interaction_id == record.id
    assert bot.command_errors == []


async def test_guild_command_sync(fake: FakeDiscord, bot: RecordingClient) -> None:
    guild = discord.Object(id=fake.guild.id)
    bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    assert [c.name for c in synced] == ["chat"] and synced[0].id > 0
    assert [c["name"] for c in fake.guild_commands[fake.guild.id]] == ["chat"]
    assert fake.global_commands == []


async def test_slash_in_dm_with_immediate_reply(fake: FakeDiscord, bot: RecordingClient) -> None:
    fetched: list[str] = []

    async def reply(interaction: discord.Interaction, message: str) -> None:
        await interaction.response.send_message(f"echo: {message}")
        fetched.append((await interaction.original_response()).content)

    bot.chat_behaviour = reply
    record = await fake.slash(fake.world.open_dm(fake.user("bob")), "bob", "chat", message="psst")
    await fake.wait_for(lambda: fetched)
    assert fetched == ["echo: psst"] and fake.interaction_view(record).ack_type == 4
    dm = fake.dm_channel("bob")
    assert dm is not None and [m.content for m in fake.transcript(dm)] == ["echo: psst"]


async def test_expired_interaction_token_is_refused() -> None:
    async with FakeDiscord(fast_config(interaction_token_ttl=0.3)) as server:
        client, task = await start_client(server)
        outcome: list[BaseException] = []

        async def stream_too_long(interaction: discord.Interaction, message: str) -> None:
            await interaction.response.defer()
            await asyncio.sleep(0.4)  # outlive the (shrunk) 15 min token on purpose
            try:
                await interaction.edit_original_response(content="finally")
            except discord.HTTPException as error:
                outcome.append(error)

        client.chat_behaviour = stream_too_long
        await server.slash("general", "alice", "chat", message="hello")
        await server.wait_for(lambda: outcome)
        assert isinstance(outcome[0], discord.HTTPException)
        assert outcome[0].status == 401 and outcome[0].code == 50027
        await client.close()
        await task


async def test_late_ack_gets_unknown_interaction() -> None:
    async with FakeDiscord(fast_config(ack_deadline=0.2)) as server:
        client, task = await start_client(server)
        late = asyncio.Event()

        async def slow(interaction: discord.Interaction, message: str) -> None:
            await asyncio.sleep(0.3)  # past the (shrunk) 3 s deadline on purpose
            try:
                await interaction.response.send_message("too late")
            finally:
                late.set()

        client.chat_behaviour = slow
        record = await server.slash("general", "alice", "chat", message="hello")
        await asyncio.wait_for(late.wait(), 5)
        await server.wait_for(lambda: client.command_errors)
        assert isinstance(client.command_errors[0], discord.NotFound)
        assert client.command_errors[0].code == 10062
        view = server.interaction_view(record)
        assert not view.acknowledged and len(view.late_ack_delays) == 1
        assert server.transcript("general") == []
        await client.close()
        await task


async def test_double_ack_is_rejected(fake: FakeDiscord, bot: RecordingClient) -> None:
    bot.chat_behaviour = lambda interaction, message: interaction.response.send_message(message)
    record = await fake.slash("general", "bob", "chat", message="once")
    await fake.wait_for(lambda: record.acknowledged)
    url = f"{fake.api_base}/interactions/{record.id}/{record.token}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as response:
        body = await response.json()
    assert response.status == 400 and body["code"] == 40060
    assert fake.interaction_view(record).double_acks == 1


# --- rate limits ------------------------------------------------------------------------------------
async def test_rate_limit_headers_and_429_shape(fake: FakeDiscord) -> None:
    fake.config.message_rate = BucketLimit(limit=1, window=5.0)
    url = f"{fake.api_base}/channels/{fake.channel('general').id}/messages"
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(url, json={"content": "one"}) as ok:
            assert ok.headers["Content-Type"] == "application/json"
            assert ok.headers["X-RateLimit-Limit"] == "1" and ok.headers["X-RateLimit-Remaining"] == "0"
            assert float(ok.headers["X-RateLimit-Reset-After"]) > 0 and ok.headers["X-RateLimit-Bucket"]
        async with http.post(url, json={"content": "two"}) as limited:
            body = await limited.json()
            assert limited.status == 429 and limited.headers["Via"] == "1.1 google"
            assert limited.headers["X-RateLimit-Scope"] == "user" and "Retry-After" in limited.headers
            assert body["retry_after"] > 0 and body["global"] is False
        async with http.post(url, json={"content": "three"}) as again:
            assert again.status == 429
        async with http.post(url, json={"content": "no auth"}, headers={"Authorization": "Bot wrong"}) as denied:
            assert denied.status == 401
    counters = fake.counters()
    assert counters.rate_limited == 2 and counters.penalties == 1


async def test_discord_py_waits_out_a_429_without_penalty(fake: FakeDiscord, bot: RecordingClient) -> None:
    # create and edit share the per-channel bucket; discord.py only learns that from a 429
    fake.config.message_rate = BucketLimit(limit=2, window=0.5)
    channel = text_channel(bot, fake)
    first = await channel.send("one")
    await asyncio.gather(channel.send("two"), first.edit(content="one, edited"))
    counters = fake.counters()
    assert counters.rate_limited >= 1 and counters.penalties == 0
    assert [m.content for m in fake.transcript("general")] == ["one, edited", "two"]


async def test_webhook_pacing_follows_headers(fake: FakeDiscord, bot: RecordingClient) -> None:
    fake.config.webhook_rate = BucketLimit(limit=2, window=0.2)
    hook = await text_channel(bot, fake).create_webhook(name="pacer")
    for index in range(5):
        await hook.send(f"line {index}", wait=True)
    assert len(fake.transcript("general")) == 5
    assert fake.counters().penalties == 0 and fake.counters().rate_limited == 0


async def test_injected_429_without_via_raises(fake: FakeDiscord, bot: RecordingClient) -> None:
    fake.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=0.05, via=False)
    with pytest.raises(discord.HTTPException) as caught:
        await text_channel(bot, fake).send("blocked")
    assert caught.value.status == 429
    await text_channel(bot, fake).send("fine now")
    assert [m.content for m in fake.transcript("general")] == ["fine now"]


# --- gateway resilience -----------------------------------------------------------------------------
async def test_resume_after_dropped_socket_replays_missed_events(fake: FakeDiscord, bot: RecordingClient) -> None:
    assert await fake.drop_gateway(4000) == 1
    await fake.user_sends("general", "alice", "sent while you were away")
    await asyncio.wait_for(bot.resumed.wait(), 5)
    await fake.wait_for(lambda: any(m.content == "sent while you were away" for m in bot.received))
    counters = fake.counters()
    assert counters.resumes == 1 and counters.identifies == 1 and counters.replayed_events >= 1
    assert bot.ready_count == 1


async def test_invalid_session_makes_client_identify_again(fake: FakeDiscord, bot: RecordingClient) -> None:
    await fake.invalidate_session(resumable=False)
    await fake.wait_for(lambda: bot.ready_count == 2, timeout=10)
    assert fake.counters().identifies == 2


async def test_unacked_heartbeats_make_a_zombie_that_resumes() -> None:
    async with FakeDiscord(fast_config(heartbeat_interval=0.05)) as server:
        client, task = await start_client(server, heartbeat_timeout=0.4)
        server.set_heartbeat_acks(False)
        await asyncio.wait_for(client.resumed.wait(), 5)
        server.set_heartbeat_acks(True)
        assert 4000 in server.gateway.stats.close_codes
        assert server.counters().identifies == 1 and server.counters().resumes >= 1
        await client.close()
        await task


# --- control API over HTTP --------------------------------------------------------------------------
async def test_http_control_api(fake: FakeDiscord, bot: RecordingClient) -> None:
    async with aiohttp.ClientSession(base_url=fake.base_url) as http:
        async with http.post(
            "/_fake/messages", json={"channel": "general", "user": "alice", "content": "hi", "mention_bot": True}
        ) as response:
            injected = await response.json()
        await fake.wait_for(lambda: bot.received)
        await text_channel(bot, fake).send("hello alice", reference=bot.received[0])
        async with http.get("/_fake/channels/general/transcript") as response:
            transcript = await response.json()
        async with http.post("/_fake/channels/general/manage_webhooks", json={"allowed": False}):
            pass
        async with http.get("/_fake/counters") as response:
            counters = await response.json()
    assert injected["pings"]["users"] == [fake.bot.id]
    assert [m["content"] for m in transcript] == [f"<@{fake.bot.id}> hi", "hello alice"]
    assert transcript[1]["reply_to"] == injected["id"] and transcript[1]["pings"]["users"] == [fake.user("alice").id]
    assert counters["identifies"] == 1 and counters["penalties"] == 0
    with pytest.raises(discord.Forbidden):
        await text_channel(bot, fake).create_webhook(name="nope")
