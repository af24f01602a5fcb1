"""The driver API over HTTP under ``/_fake/...`` for standalone runs and cross-process scripts.

Chats are named by ``chat_id``; a positive id is the private chat of that user with ``bot`` (token,
username or id; the only bot when omitted). Bodies are JSON; answers are JSON.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .records import FaultRule
from .world import Chat, StoredMessage

if TYPE_CHECKING:
    from .server import FakeTelegram

Route = Callable[[web.Request], Awaitable[web.Response]]


class BotIn(BaseModel):
    token: str
    username: str
    first_name: str | None = None
    privacy: bool = True


class UserIn(BaseModel):
    first_name: str
    username: str | None = None
    user_id: int | None = None


class ChatIn(BaseModel):
    type: Literal["private", "group", "supergroup"]
    title: str = "Test group"
    user_id: int | None = None  # private chats
    bot: str | None = None
    started: bool = False
    members: list[int] = []
    bots: list[str] = []
    admins: list[int] = []
    forum: bool = False
    username: str | None = None


class TopicIn(BaseModel):
    chat_id: int
    name: str
    creator_id: int | None = None


class MessageIn(BaseModel):
    chat_id: int
    user_id: int
    text: str
    bot: str | None = None
    reply_to: int | None = None
    thread_id: int | None = None
    entities: list[dict[str, Any]] | None = None  # None: detected as Telegram does


class ButtonIn(BaseModel):
    chat_id: int
    message_id: int
    user_id: int
    data: str
    bot: str | None = None


class StormIn(BaseModel):
    chat_id: int | None = None
    bot: str | None = None
    duration: float | None = None
    probability: float = 1.0
    retry_after: int = 1
    seed: int = 0


class PrivacyIn(BaseModel):
    bot: str | None = None
    enabled: bool


class FaultIn(BaseModel):
    method: str = "*"
    status: int = 400
    description: str = "Bad Request: injected fault"
    chat_id: int | None = None
    retry_after: float | None = None
    times: int | None = 1
    delay: float = 0.0
    hold: bool = False
    text: str | None = None


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), status=status,
                        headers={"Content-Type": "application/json"})


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    return json.loads(raw) if raw.strip() else {}


def message_view(message: StoredMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "from": message.sender.to_api(),
        "text": message.text,
        "entities": message.entities,
        "deleted": message.deleted,
        "message_thread_id": message.thread_id,
        "reply_to_message_id": message.reply_to.message_id if message.reply_to else None,
        "reply_markup": message.reply_markup,
        "versions": [{"t": v.t, "date": v.date, "text": v.text} for v in message.versions],
    }


def add_control_routes(app: web.Application, fake: FakeTelegram) -> None:
    def chat_of(chat_id: int, bot: str | None) -> Chat:
        if chat_id > 0:
            return fake.private_chat(fake.world.users[chat_id], fake.bot(bot))
        chat = fake.world.group(chat_id)
        if chat is None:
            raise KeyError(f"no chat {chat_id}")
        return chat

    def guarded(route: Route) -> Route:
        async def wrapper(request: web.Request) -> web.Response:
            try:
                return await route(request)
            except (ValidationError, ValueError, KeyError, TimeoutError) as exc:
                return _reply({"error": f"{type(exc).__name__}: {exc}"}, 400)

        return wrapper

    async def state(request: web.Request) -> web.Response:
        world = fake.world
        return _reply({
            "base_url": fake.base_url,
            "bots": [{**bot.get_me(), "token": bot.token} for bot in world.bots_by_token.values()],
            "users": [user.to_api() for user in world.users.values() if not user.is_bot],
            "chats": [{**chat.to_api(), "bot_id": chat.bot_id, "members": chat.members, "topics": chat.topics}
                      for chat in world.chats.values()],
        })

    async def add_bot(request: web.Request) -> web.Response:
        body = BotIn.model_validate(await _body(request))
        return _reply(fake.add_bot(body.token, body.username, body.first_name, privacy=body.privacy).get_me())

    async def add_user(request: web.Request) -> web.Response:
        body = UserIn.model_validate(await _body(request))
        return _reply(fake.add_user(body.first_name, body.username, user_id=body.user_id).to_api())

    async def add_chat(request: web.Request) -> web.Response:
        body = ChatIn.model_validate(await _body(request))
        users = fake.world.users
        if body.type == "private":
            if body.user_id is None:
                raise ValueError("user_id is required for a private chat")
            chat = fake.private_chat(users[body.user_id], body.bot, started=body.started)
        else:
            chat = fake.add_group(
                body.title, members=[users[i] for i in body.members], bots=body.bots,
                admins=[users[i] for i in body.admins], supergroup=body.type == "supergroup",
                forum=body.forum, username=body.username,
            )
        return _reply(chat.to_api())

    async def add_topic(request: web.Request) -> web.Response:
        body = TopicIn.model_validate(await _body(request))
        creator = fake.world.users[body.creator_id] if body.creator_id else None
        return _reply({"message_thread_id": fake.create_topic(chat_of(body.chat_id, None), body.name, creator)})

    async def user_sends(request: web.Request) -> web.Response:
        body = MessageIn.model_validate(await _body(request))
        chat = chat_of(body.chat_id, body.bot)
        message = fake.user_sends(chat, fake.world.users[body.user_id], body.text,
                                  reply_to=body.reply_to, thread_id=body.thread_id, entities=body.entities)
        return _reply(message.to_api())

    async def press_button(request: web.Request) -> web.Response:
        body = ButtonIn.model_validate(await _body(request))
        chat = chat_of(body.chat_id, body.bot)
        message = fake.world.message(chat, body.message_id)
        if message is None:
            raise KeyError(f"no message {body.message_id}")
        return _reply({"callback_query_id": fake.press_button(message, fake.world.users[body.user_id], body.data)})

    async def transcript(request: web.Request) -> web.Response:
        chat = chat_of(int(request.query["chat_id"]), request.query.get("bot"))
        return _reply([message_view(m) for m in fake.transcript(chat, include_deleted=True)])

    async def counters(request: web.Request) -> web.Response:
        return _reply(fake.counters().model_dump())

    async def calls(request: web.Request) -> web.Response:
        records = fake.calls(request.query.get("method"))
        return _reply([{"t": r.t, "method": r.method, "params": r.params, "status": r.status,
                        "response": r.response} for r in records])

    async def flood(request: web.Request) -> web.Response:
        return _reply(fake.configure_flood(**(await _body(request))).model_dump(mode="json"))

    async def storm(request: web.Request) -> web.Response:
        if request.method == "DELETE":
            fake.calm()
            return _reply(True)
        body = StormIn.model_validate(await _body(request))
        chat = chat_of(body.chat_id, body.bot) if body.chat_id is not None else None
        fake.storm(chat, duration=body.duration, probability=body.probability,
                   retry_after=body.retry_after, seed=body.seed)
        return _reply(True)

    async def privacy(request: web.Request) -> web.Response:
        body = PrivacyIn.model_validate(await _body(request))
        fake.set_privacy(body.bot, body.enabled)
        return _reply(True)

    async def faults(request: web.Request) -> web.Response:
        body = FaultIn.model_validate(await _body(request))
        rule: FaultRule = fake.inject_fault(
            body.method, status=body.status, description=body.description, chat=body.chat_id,
            retry_after=body.retry_after, times=body.times, delay=body.delay, hold=body.hold, text=body.text,
        )
        return _reply({"method": rule.method, "status": rule.status})

    async def release_holds(request: web.Request) -> web.Response:
        fake.release_holds()
        return _reply(True)

    async def wait_idle(request: web.Request) -> web.Response:
        query = request.query
        chat = chat_of(int(query["chat_id"]), query.get("bot"))
        await fake.wait_idle(chat, float(query.get("quiet", 0.5)), float(query.get("timeout", 30)))
        return _reply([message_view(m) for m in fake.bot_messages(chat)])

    for method, path, route in (
        ("GET", "/_fake/state", state),
        ("POST", "/_fake/bots", add_bot),
        ("POST", "/_fake/users", add_user),
        ("POST", "/_fake/chats", add_chat),
        ("POST", "/_fake/topics", add_topic),
        ("POST", "/_fake/messages", user_sends),
        ("POST", "/_fake/buttons", press_button),
        ("GET", "/_fake/transcript", transcript),
        ("GET", "/_fake/counters", counters),
        ("GET", "/_fake/calls", calls),
        ("POST", "/_fake/flood", flood),
        ("POST", "/_fake/storm", storm),
        ("DELETE", "/_fake/storm", storm),
        ("POST", "/_fake/privacy", privacy),
        ("POST", "/_fake/faults", faults),
        ("POST", "/_fake/release_holds", release_holds),
        ("GET", "/_fake/wait_idle", wait_idle),
    ):
        app.router.add_route(method, path, guarded(route))
