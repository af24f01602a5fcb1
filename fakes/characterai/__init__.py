"""A fake Character.AI server for tests and the sandbox (wire format: the team notes, characterai-protocol.md).

One aiohttp server answers for every host: ``plus`` and ``neo`` REST, the DM websocket ``/ws/`` and the
room websocket ``/connection/websocket`` (Centrifugo JSON). Point every Character.AI base URL at
``fake.base_url`` (``ws_url`` / ``room_ws_url`` for the sockets).

In-process use::

    fake = FakeCharacterAI(characters=[FakeCharacter(id="c1", name="Pirate", greeting="Arr", style="pirate")],
                           seed=1, chunk_chars=4)
    await fake.start(host="127.0.0.1", port=0)   # fake.base_url, fake.ws_url, fake.room_ws_url, fake.token
    fake.script_reply("c1", "Exactly this.")      # or script_reply("c1", length=5000)
    fake.inject("drop", after_snapshots=2)       # next generation: socket closed after 2 snapshots; the turn
                                                 # goes on growing in the history, then becomes final
    ...; fake.received("dm", "create_and_generate_turn"); fake.room_violations; await fake.stop()

Constructor: ``FakeCharacterAI(characters=None (-> DEMO_CHARACTERS), *, token=DEFAULT_TOKEN,
user=DEFAULT_USER, users={token: FakeUser}, settings=FakeSettings(), seed=None, clock=utc_now,
**setting_overrides)``. Tokens are accepted as ``Authorization: Token <key>`` (REST; bare key too) and as
the ``HTTP_AUTHORIZATION`` cookie, quoted or not (websockets). A bad token gets REST 401 ``Unauthorized``
and websocket upgrade 403.

Settings (``FakeSettings``; change at run time with ``fake.configure(**changes)``): ``chunk_chars`` (12),
``min_snapshots`` (3), ``snapshot_delay`` (0 s; per character via ``FakeCharacter.chunk_chars`` /
``snapshot_delay``), ``page_size`` (50), ``ping_interval`` (25 s, room socket ``{}`` pings),
``room_mode`` ("reject": a second connection subscribing to a room gets Centrifugo error 106 "limit
exceeded"; "evict": the older one gets an unsubscribe push code 2500, or is closed with
``evict_close_code``), ``room_rpc_reply`` (True: ``{"id":n,"rpc":{"data":{}}}`` before the pushes),
``max_message_length`` (None; longer -> neo_error 400), ``rate_limit_count`` / ``rate_limit_window``
(generations per user per window; over -> neo_error 429 with ``retry_after_seconds``),
``remaining_quota_frac``, ``generation_overlap`` ("queue": a second generating command on a DM
connection while one is in flight waits its turn; "reject": it gets neo_error 409 at once; both count it),
``history_is_final`` ("actual": ``GET /turns/`` says ``is_final: false`` while a candidate is generated;
"always": every candidate says true).
Every violation of the one-connection-per-room rule increments ``room_violations`` (in both modes).

Characters: ``FakeCharacter(id, name, greeting, avatar, title, description, style, chunk_chars,
snapshot_delay, ...)``; ``style`` is one of echo ("Echo: <text>"), pirate, librarian, oracle. Replies are
a pure function of (character, user text, candidate index), so the same input gives the same reply.
``DEMO_CHARACTERS`` holds the built-in cast (Captain Redbeard, Ms. Marginalia, Echo, Madame Zora).

Faults (``fake.inject(kind, **options)`` or ``Fault(...)``; each applies to the next matching request,
``times`` times; ``target`` dm/room/rest/any; ``command`` and ``chat_id`` (a DM chat or a room) narrow it;
``wait_for_release``: the fault acts (an error answer, a drop at its snapshot, a delay) only after a
``fake.release_stalls()``, its request in flight meanwhile): ``neo_error`` (comment,
error_code, sub_code, retry_after_seconds), ``rate_limit`` (429 + retry_after_seconds), ``self_harm_filter``
(``filter_user_input_self_harm`` frame), ``input_filter``, ``safety_truncate`` (keep_chars; final
candidate ``safety_truncated: true``), ``drop`` (after_snapshots, close_code; None aborts TCP; after_drop
"continue" (default: the server finishes the turn unseen, at ``continue_delay`` seconds per snapshot
(default: the stream's pace), after ``fake.release_stalls()`` when ``hold``) or "cut" (what was streamed is
stored as final)), ``stall`` (after_snapshots; waits until ``fake.release_stalls()`` or stop), ``delay``
(seconds), ``rest_error`` (status, body, content_type, path_prefix: e.g. 429, 500, HTML 403). A generation
also goes on when the client closes its socket mid-stream. While a candidate is being generated,
``GET /turns/`` shows it with ``is_final: false``.

Inspection: ``fake.received(channel, command)`` (every frame / REST call, decoded), ``fake.counters``
(``dm_generations``, ``dm_generation_overlaps``, ``dm_generations_peak`` = most generations in flight on
one DM connection at once, ...), ``fake.dm_sockets()`` (per DM connection: in flight now, in all, peak),
``fake.room_violations``, ``fake.chat(id)`` / ``fake.chats()`` / ``fake.room(id)`` (stored turns),
``fake.room_subscribers(room_id)``, ``fake.state()`` (all of it as JSON).

Control API (no auth), the same over HTTP: ``GET /_fake/state``, ``GET /_fake/counters``, ``GET /_fake/dm_sockets``,
``GET|DELETE /_fake/received?channel=&command=``, ``POST /_fake/characters`` (FakeCharacter JSON),
``POST /_fake/users`` ({"token", "user": FakeUser}), ``POST /_fake/script`` ({"character_id", "text" |
"length"}), ``POST|DELETE /_fake/faults`` (Fault JSON), ``PATCH /_fake/settings``,
``POST /_fake/release_stalls``.

Choices where the doc leaves the real behaviour open: room command errors (unknown turn, injected
neo_error) are pushed on the room channel as ``neo_error`` data with the request's ``request_id``;
RPC-level problems (not subscribed -> 103, unknown method -> 104, malformed -> 107) are Centrifugo error
replies. ``create_chat`` without ``with_greeting`` sends the greeting. An empty user message in
``create_and_generate_turn`` means "generate only". Room ``generate_turn`` is answered by the requested
``character_id``, else a character named in the last user message, else the room's characters in turn.

Standalone: ``python -m fakes.characterai --port 8765`` (demo characters, token printed).
``TlsConnectProxy`` (``fakes.characterai.tls_proxy``) lets clients with hard-coded
``https://*.character.ai`` URLs (PyCharacterAI) reach the fake through an HTTP CONNECT proxy.
"""

from fakes.characterai.characters import DEMO_CHARACTERS, FakeCharacter, ReplyStyle
from fakes.characterai.faults import Fault, FaultKind
from fakes.characterai.server import DEFAULT_TOKEN, DEFAULT_USER, FakeCharacterAI
from fakes.characterai.settings import FakeSettings
from fakes.characterai.state import FakeUser
from fakes.characterai.world import ReceivedMessage, filler_text

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "DEMO_CHARACTERS",
    "FakeCharacter",
    "FakeCharacterAI",
    "FakeSettings",
    "FakeUser",
    "Fault",
    "FaultKind",
    "ReceivedMessage",
    "ReplyStyle",
    "filler_text",
]
