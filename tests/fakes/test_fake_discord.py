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

from fakes.discord import BucketLimit, FakeDiscord, FakeDiscordConfig

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
    # the two settings a client needs to talk to the fake (see fakes/discord/__init__.py)
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


async def test_without_the_message_content_intent_guild_messages_arrive_blank() -> None:
    """By default, as on Discord: blank unless a DM, the bot's own, mentioning the bot or replying to it."""
    async with FakeDiscord(fast_config()) as server:
        client, task = await start_client(server, message_content=False)
        channel = text_channel(client, server)
        hook = await channel.create_webhook(name="persona")
        own = await channel.send("the bot's own words")
        await hook.send("a character speaks", embed=discord.Embed(description="with an embed"), wait=True)
        plain = await server.user_sends("general", "alice", "you cannot read this")
        await server.user_sends("general", "alice", "but this mentions you", mention_bot=True)
        await server.user_sends("general", "bob", "a reply to the bot, no ping", reply_to=own.id, ping_author=False)
        await server.user_sends("general", "bob", "a reply to alice", reply_to=plain, ping_author=False)
        await server.dm("bob", "and DMs are readable")
        await server.wait_for(lambda: len(client.received) == 7)
        assert [(m.content, len(m.embeds)) for m in client.received] == [
            ("the bot's own words", 0),
            ("", 0),  # the bot's webhooks are not the bot: blanked, embeds too
            ("", 0),
            (f"<@{server.bot.id}> but this mentions you", 0),
            ("a reply to the bot, no ping", 0),
            ("", 0),
            ("and DMs are readable", 0),
        ]
        reply_to_bot, reply_to_alice = client.received[4], client.received[5]
        assert client.user is not None and not client.user.mentioned_in(reply_to_bot)  # readable all the same
        quoted = reply_to_alice.reference.resolved if reply_to_alice.reference else None
        assert isinstance(quoted, discord.Message) and quoted.content == ""  # the quoted message is blank too
        await client.close()
        await task


@pytest.mark.parametrize(("enforced", "intent"), [(True, True), (False, False)], ids=["intent", "rule-off"])
async def test_with_the_intent_or_the_rule_switched_off_everything_is_readable(enforced: bool, intent: bool) -> None:
    async with FakeDiscord(fast_config(enforce_message_content_intent=enforced)) as server:
        client, task = await start_client(server, message_content=intent)
        await server.user_sends("general", "alice", "plain chatter")
        await server.wait_for(lambda: client.received)
        assert client.received[0].content == "plain chatter"
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


async def test_whitespace_only_content_is_an_empty_message(fake: FakeDiscord, bot: RecordingClient) -> None:
    channel = text_channel(bot, fake)
    hook = await channel.create_webhook(name="persona")
    kept = await channel.send("something")
    hooked = await hook.send("something else", wait=True)
    attempts = (
        channel.send(" \n\t "),
        hook.send("\u3000 \n", wait=True),
        kept.edit(content="   "),
        hooked.edit(content="\n\n"),
    )
    for attempt in attempts:
        with pytest.raises(discord.HTTPException) as caught:
            await attempt
        assert (caught.value.status, caught.value.code) == (400, 50006)
        assert "Cannot send an empty message" in caught.value.text
    await channel.send("\u200b")  # zero-width characters are not whitespace: Discord takes them
    assert [m.content for m in fake.transcript("general")] == ["something", "something else", "\u200b"]


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


async def test_a_callback_answers_204_unless_asked_for_the_response(fake: FakeDiscord) -> None:
    plain = await fake.slash("general", "alice", "chat", message="one")
    asked = await fake.slash("general", "alice", "chat", message="two")
    declined = await fake.slash("general", "alice", "chat", message="three")
    callback = "{base}/interactions/{record.id}/{record.token}/callback"
    body = {"type": 4, "data": {"content": "answered"}}
    async with aiohttp.ClientSession() as http:
        async with http.post(callback.format(base=fake.api_base, record=plain), json=body) as response:
            assert response.status == 204 and await response.read() == b""
        url = callback.format(base=fake.api_base, record=asked) + "?with_response=true"
        async with http.post(url, json=body) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "application/json"
            answer = await response.json()
        url = callback.format(base=fake.api_base, record=declined) + "?with_response=false"
        async with http.post(url, json=body) as response:
            assert response.status == 204
    assert answer["interaction"]["id"] == str(asked.id) and answer["interaction"]["type"] == 2
    assert answer["resource"]["type"] == 4 and answer["resource"]["message"]["content"] == "answered"
    assert answer["interaction"]["response_message_id"] == answer["resource"]["message"]["id"]
    assert all(record.acknowledged for record in (plain, asked, declined))
    assert [m.content for m in fake.transcript("general")] == ["answered"] * 3


async def test_discord_py_asks_for_the_callback_response(fake: FakeDiscord, bot: RecordingClient) -> None:
    fetched: list[discord.InteractionCallbackResponse[Any]] = []

    async def reply(interaction: discord.Interaction, message: str) -> None:
        fetched.append(await interaction.response.send_message(f"echo: {message}"))

    bot.chat_behaviour = reply
    await fake.slash("general", "alice", "chat", message="hi")
    await fake.wait_for(lambda: fetched)
    [call] = fake.calls("POST", "/callback")
    assert call.status == 200 and call.query == {"with_response": "1"}  # what discord.py 2.7 sends
    assert isinstance(fetched[0].resource, discord.InteractionMessage)
    assert fetched[0].resource.content == "echo: hi"


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


async def test_expired_interaction_token_is_refused(fake: FakeDiscord, bot: RecordingClient) -> None:
    deferred, edit_now = asyncio.Event(), asyncio.Event()
    outcome: list[BaseException] = []

    async def stream_too_long(interaction: discord.Interaction, message: str) -> None:
        await interaction.response.defer()
        deferred.set()
        await edit_now.wait()
        try:
            await interaction.edit_original_response(content="finally")
        except discord.HTTPException as error:
            outcome.append(error)

    bot.chat_behaviour = stream_too_long
    await fake.slash("general", "alice", "chat", message="hello")
    await asyncio.wait_for(deferred.wait(), 5)
    fake.advance_interaction_clock(fake.config.interaction_token_ttl + 1)  # 15 minutes pass at once
    edit_now.set()
    await fake.wait_for(lambda: outcome)
    assert isinstance(outcome[0], discord.HTTPException)
    assert outcome[0].status == 401 and outcome[0].code == 50027


async def test_late_ack_gets_unknown_interaction(fake: FakeDiscord, bot: RecordingClient) -> None:
    answer_now, late = asyncio.Event(), asyncio.Event()

    async def slow(interaction: discord.Interaction, message: str) -> None:
        await answer_now.wait()
        try:
            await interaction.response.send_message("too late")
        finally:
            late.set()

    bot.chat_behaviour = slow
    record = await fake.slash("general", "alice", "chat", message="hello")
    fake.advance_interaction_clock(fake.config.ack_deadline + 0.5)  # the 3 s pass before the bot answers
    answer_now.set()
    await asyncio.wait_for(late.wait(), 5)
    await fake.wait_for(lambda: bot.command_errors)
    assert isinstance(bot.command_errors[0], discord.NotFound)
    assert bot.command_errors[0].code == 10062
    view = fake.interaction_view(record)
    assert not view.acknowledged and len(view.late_ack_delays) == 1
    assert view.late_ack_delays[0] > fake.config.ack_deadline
    assert fake.transcript("general") == []


async def test_an_ack_inside_the_deadline_is_accepted_after_pretend_time(fake: FakeDiscord) -> None:
    record = await fake.slash("general", "alice", "chat", message="hello")
    fake.advance_interaction_clock(1.0)  # 2 s of the 3 are left for the real round trip
    url = f"{fake.api_base}/interactions/{record.id}/{record.token}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as response:
        assert response.status == 204
    view = fake.interaction_view(record)
    assert view.ack_type == 5 and view.ack_delay is not None and view.ack_delay >= 1.0


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


async def test_webhooks_of_one_channel_share_a_cap_answered_with_a_shared_429() -> None:
    # Discord: about 30 executions per minute per channel, whatever webhook; here 3 per minute
    config = fast_config(webhook_channel_rate=BucketLimit(limit=3, window=60.0))
    async with FakeDiscord(config) as server:
        client, task = await start_client(server)
        general = text_channel(client, server)
        first, second = await general.create_webhook(name="one"), await general.create_webhook(name="two")
        elsewhere = await text_channel(client, server, "random").create_webhook(name="three")
        thread = general.guild.get_thread(server.channel("chat-thread").id)
        assert thread is not None
        sent = await first.send("a", wait=True)
        await second.send("b", wait=True)
        await first.send("c, in the thread", thread=thread, wait=True)  # a thread counts for its channel
        await sent.edit(content="a, edited")  # edits do not count against the channel's cap
        await elsewhere.send("another channel has its own cap", wait=True)

        async with aiohttp.ClientSession() as http:
            url = f"{server.api_base}/webhooks/{second.id}/{second.token}?wait=true"
            async with http.post(url, json={"content": "d"}) as limited:
                body = await limited.json()
                headers = limited.headers
        assert limited.status == 429 and headers["X-RateLimit-Scope"] == "shared" and headers["Via"] == "1.1 google"
        assert body["retry_after"] > 0 and body["global"] is False
        assert [call.status for call in server.calls("POST", "/webhooks/{webhook_id")] == [200, 200, 200, 200, 429]
        assert [m.content for m in server.transcript("general")] == ["a, edited", "b"]
        assert server.counters().rate_limited == 1
        await client.close()
        await task


async def test_the_channel_cap_sends_no_headers_until_it_is_hit(fake: FakeDiscord, bot: RecordingClient) -> None:
    fake.config.webhook_rate = None  # only the channel's shared cap is left
    hook = await text_channel(bot, fake).create_webhook(name="quiet")
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_base}/webhooks/{hook.id}/{hook.token}?wait=true"
        async with http.post(url, json={"content": "hello"}) as response:
            assert response.status == 200
            assert not [name for name in response.headers if name.lower().startswith("x-ratelimit")]


async def test_injected_429_without_via_raises(fake: FakeDiscord, bot: RecordingClient) -> None:
    fake.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=30.0, via=False, scope="shared")
    with pytest.raises(discord.HTTPException) as caught:
        await text_channel(bot, fake).send("blocked")
    assert caught.value.status == 429 and caught.value.response.headers["X-RateLimit-Scope"] == "shared"
    assert fake.counters().penalties == 0
    await text_channel(bot, fake).send("sent at once anyway")  # 30 s early: the client ignored retry_after
    assert [m.content for m in fake.transcript("general")] == ["sent at once anyway"]
    assert fake.counters().penalties == 1


async def test_an_injected_429_with_via_is_waited_out_without_penalty(fake: FakeDiscord, bot: RecordingClient) -> None:
    fault = fake.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=0.05, times=2)
    await text_channel(bot, fake).send("patience")
    assert fault.hits == 2 and [m.content for m in fake.transcript("general")] == ["patience"]
    assert fake.counters().penalties == 0


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
    # discord.py closes a connection that received nothing for heartbeat_timeout (60 s by default)
    async with FakeDiscord(fast_config(heartbeat_interval=0.5)) as server:
        client, task = await start_client(server, heartbeat_timeout=2.0)
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


async def test_http_control_api_lets_interaction_time_pass(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession(base_url=fake.base_url) as http:
        body = {"channel": "general", "user": "alice", "name": "chat", "options": {"message": "hi"}}
        async with http.post("/_fake/slash", json=body) as response:
            created = await response.json()
        async with http.post("/_fake/interactions/advance", json={"seconds": 4}) as response:
            assert response.status == 200
        callback = f"/api/v10/interactions/{created['id']}/{created['token']}/callback"
        async with http.post(callback, json={"type": 5}) as response:
            status, refused = response.status, await response.json()
        async with http.get(f"/_fake/interactions/{created['id']}") as response:
            view = await response.json()
    assert status == 404 and refused["code"] == 10062
    assert view["acknowledged"] is False and len(view["late_ack_delays"]) == 1
