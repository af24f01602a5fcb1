"""A fake Discord that the real, unmodified discord.py 2.7 talks to over real sockets.

One aiohttp server does REST under `/api/v10`, the gateway websocket at `/gateway` and a control API under
`/_fake/...`. It keeps a small world (one guild "Test Guild" with roles `@everyone`, the bot's managed role
and a mentionable "fans" role; text channels "general" and "random"; public thread "chat-thread" under
"general"; users "alice" (guild owner) and "bob"; DMs opened on demand) and enforces Discord's rules:
2000-character content, no empty or whitespace-only content without embeds/files (400/50006; zero-width
characters are not whitespace), `Authorization: Bot <token>` (401), channel permissions (Manage Webhooks ->
403/50013), 15 webhooks per channel (400/30007), the interaction ack deadline (404/10062), one ack
(400/40060), token life (401/50027), and fixed-window rate limits answered with 429 + `retry_after` +
`Via: 1.1 google`. Every bot write is echoed over the gateway (MESSAGE_CREATE / MESSAGE_UPDATE /
MESSAGE_DELETE), like Discord. A bot that identified without the MESSAGE_CONTENT intent (1 << 15) gets guild
messages that neither mention it nor reply to it with `content`, `embeds`, `attachments` and `components`
blanked (`enforce_message_content_intent`, on by default; DMs and the bot's own messages are exempt, its
webhooks' are not). An interaction callback answers 204 without a body unless asked `?with_response=true`
(discord.py always sends `with_response=1`), then 200 with the interaction callback response.

Pointing discord.py at it (process-global class attributes: set them before `login`/`start`, restore after)::

    import discord, yarl
    discord.http.Route.BASE = fake.api_base                 # "http://127.0.0.1:PORT/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)  # "ws://127.0.0.1:PORT/gateway"
    client = discord.Client(intents=..., guild_ready_timeout=0.1)
    await client.start(fake.config.token)                   # "test-token" by default

`Route.BASE` covers REST, webhooks and interaction callbacks (they all build URLs from it when each request is
made). A plain `Client` never asks `/gateway`; `AutoShardedClient` asks `/gateway/bot`, which is served too.
After READY, reconnects use READY's `resume_gateway_url`, which points back at the fake. Gateway frames are
JSON text (discord.py accepts them whatever `compress=` it asked for); `zlib_stream=True` sends real zlib-stream
frames. Tests may override the public `Client.before_identify_hook` to skip its 5 s sleep before a re-IDENTIFY.
`discord.Webhook.from_url` only accepts discord.com URLs; use the objects discord.py returns, or
`discord.Webhook.partial(id, token, client=client)`.

In-process use::

    fake = FakeDiscord(FakeDiscordConfig(heartbeat_interval=0.5))
    await fake.start(host="127.0.0.1", port=0)     # or: async with FakeDiscord(...) as fake:
    ...; await fake.stop()

Properties: `base_url`, `api_base`, `gateway_url`, `port`, `config` (mutable at run time, e.g.
`fake.config.message_rate = BucketLimit(limit=2, window=0.3)`), `bot` (the bot User; its id is also the
application id), `guild`, `world` (all state), `global_commands`, `guild_commands`, `requests`, `typing`.
Look-ups: `channel(id_or_name)`, `user(id_or_username)`, `dm_channel(user)`.

Driver API (channels and users may be given as objects, ids or names):

- `await user_sends(channel, user, content, mention_bot=False, reply_to=None, ping_author=True) -> StoredMessage`:
  a user posts in a channel, thread or DM; fills `mentions`, `member`, `message_reference`.
  A reply pings the replied-to author, as the Discord client does by default (`ping_author=False`: "@ off").
- `await dm(user, content)`: a user writes to the bot in a DM.
- `await slash(channel, user, name, options=None, **options) -> InteractionRecord`: `/name opt:value`
  as INTERACTION_CREATE (str/int/bool/float options). The record tracks `ack_type`, `ack_delay` (seconds from
  creation to the accepted callback), `late_ack_delays`, `double_acks`, `original_message_id`, `followup_ids`.
- `await click(message, custom_id, user)`: a button press (component interaction).
- `await create_thread(parent, name, owner)`, `await add_text_channel(name)`.
- `transcript(channel, include_deleted=False) -> list[MessageView]`: messages in order with author or webhook
  persona (`author_name`, `avatar_url`), final `content`, `pings` (who was notified on creation, after
  `allowed_mentions` and permissions), `versions` (original text and every edit with timestamps and the
  mentions of that version; Discord does not notify for mentions added by an edit).
- `message_view(message_or_id)`, `edits(message_or_id) -> [(monotonic time, text)]`, `messages_in(channel)`,
  `bot_messages(channel)`, `interaction_view(record_or_id) -> InteractionView`.
- `calls(method=None, route=None) -> list[RequestRecord]`: the REST log (route template, status, payload).
- `counters() -> Counters`: `rate_limited` (429s), `penalties` (requests to a bucket before its retry_after
  elapsed), `requests`, `client_errors`, `gateway_connections`, `identifies`, `resumes`, `replayed_events`,
  `heartbeats`, `typing`. Individual events: `limiter.counters.events`.
- `await set_manage_webhooks(channel, allowed)`, `await set_bot_permission(channel, permission_bit, allowed)`:
  a member overwrite for the bot, announced with CHANNEL_UPDATE.
- `fail_next(method, path_regex, status, code=0, message=..., times=1, retry_after=0.1, via=True, scope="user")`:
  scripted REST failures (for example 404 on an edit, or a 429 without `Via`, which discord.py raises instead of
  retrying); a matching request sent before an injected 429's `retry_after` elapsed counts as a penalty.
- `advance_interaction_clock(seconds)`: the interactions' time jumps ahead (their 3 s ack deadline and 15 min
  token life run out without a test waiting for them).
- Gateway faults: `await drop_gateway(code=4000)` (the client RESUMEs; events sent meanwhile are replayed),
  `await send_reconnect()` (op 7), `await invalidate_session(resumable=False)` (op 9: re-IDENTIFY and a second
  on_ready), `set_heartbeat_acks(False)` (zombie connection).
- `await wait_for(predicate, timeout=5.0)`: returns `predicate()`'s first truthy value; re-checked on every
  state change of the fake and every 20 ms (so it also sees client-side effects). Raises TimeoutError.

Control API over HTTP (JSON bodies; same semantics as above):
`GET /_fake/state`, `POST /_fake/messages {channel, user, content, mention_bot?, reply_to?}`,
`POST /_fake/dm {user, content}`, `POST /_fake/slash {channel, user, name, options}`,
`GET /_fake/interactions/{id}`, `POST /_fake/interactions/advance {seconds}`,
`GET /_fake/channels/{id_or_name}/transcript[?include_deleted=1]`,
`POST /_fake/channels/{id_or_name}/manage_webhooks {allowed}`, `GET /_fake/counters`,
`GET /_fake/calls[?method=&route=]`, `POST /_fake/gateway/drop {code}`,
`POST /_fake/faults {method, path_pattern, status, code?, message?, times?, retry_after?, via?, scope?}`.

Standalone: `python -m fakes.discord --port 8790 [--token T] [--time-scale 0.1]`.

Rate limits (`FakeDiscordConfig`, each None to switch off): `message_rate` per channel, shared by message
create and edit (5 per 5 s); `webhook_rate` per webhook, shared by execute and webhook-message edits (5 per 2 s);
`webhook_channel_rate` per channel across all its webhooks, executions only, threads counting for their parent
(30 per 60 s; no headers until hit, then 429 with `X-RateLimit-Scope: shared`); `global_rate` for bot-token
routes (50 per 1 s; interaction and webhook-token routes are exempt). Responses on
limited routes carry `X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`; 429s add `Retry-After`,
`X-RateLimit-Scope` and `Via`. `FakeDiscordConfig.scaled(f)` multiplies every window and deadline by `f`.
"""

from .config import BucketLimit, FakeDiscordConfig
from .interactions import InteractionRecord
from .models import Counters, InteractionView, MessageView
from .server import FakeDiscord
from .world import Channel, StoredMessage, User

__all__ = [
    "BucketLimit",
    "Channel",
    "Counters",
    "FakeDiscord",
    "FakeDiscordConfig",
    "InteractionRecord",
    "InteractionView",
    "MessageView",
    "StoredMessage",
    "User",
]
