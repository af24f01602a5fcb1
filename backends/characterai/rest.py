"""The REST half of the client: profile, characters, chats, history pages and rooms on plus / neo."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import http_error, log, neo_error, transport_error
from backends.characterai.wire import Character, Chat, Profile, Room, TurnsPage
from bot.upstream.base import ErrorCode, UpstreamError

JsonBody = dict[str, Any] | list[Any] | None
M = TypeVar("M", bound=BaseModel)


def _model(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: unexpected answer shape ({model.__name__})") from None


def _segment(value: str) -> str:
    return quote(value, safe="")


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class RestClient:
    def __init__(self, config: CharacterAIConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={
                    "Authorization": self._config.auth_header(),
                    "User-Agent": self._config.user_agent,
                    "Content-Type": "application/json",
                },
                timeout=aiohttp.ClientTimeout(total=self._config.request_timeout, connect=self._config.connect_timeout),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, url: str, what: str, *, params: dict[str, str] | None = None, body: JsonBody = None
    ) -> tuple[int, Any]:
        """Returns (status, parsed JSON or None) for 2xx and for 404 (callers decide); raises otherwise."""
        if self._session is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the client is not started")
        data = None if body is None else json.dumps(body)
        try:
            async with self._session.request(method, url, params=params, data=data) as response:
                text = await response.text()
                status = response.status
                retry_after = _retry_after(response.headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise transport_error(exc, what) from None
        parsed = _parse(text)
        if status == 404 or 200 <= status < 300:
            return status, parsed
        if isinstance(parsed, dict) and parsed.get("command") == "neo_error":
            error = neo_error({"error_code": status, **parsed}, what, server_error=ErrorCode.UNAVAILABLE)
            if error.retry_after is None and retry_after is not None:
                error.retry_after = retry_after
            raise error
        raise http_error(status, text, what, retry_after)

    def _neo(self, path: str) -> str:
        return self._config.neo_url.rstrip("/") + path

    def _plus(self, path: str) -> str:
        return self._config.plus_url.rstrip("/") + path

    async def profile(self) -> Profile:
        what = "loading the Character.AI profile"
        status, body = await self._call("GET", self._plus("/chat/user/"), what)
        if status == 404 or not isinstance(body, dict):
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: unexpected answer (HTTP {status})")
        try:
            profile = Profile.from_body(body)
        except (KeyError, TypeError, ValueError):
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the profile has no user id") from None
        if profile.username.upper() == "ANONYMOUS":
            raise UpstreamError(ErrorCode.AUTH, f"{what}: the token is not logged in (anonymous user)")
        return profile

    async def character(self, character_id: str) -> Character:
        what = f"getting character {character_id}"
        body_in = {"external_id": character_id, "lang": self._config.language}
        status, body = await self._call("POST", self._neo("/character/v1/get_character_info"), what, body=body_in)
        if status == 404 or not isinstance(body, dict) or not isinstance(body.get("character"), dict):
            reason = body.get("error") if isinstance(body, dict) else None
            raise UpstreamError(ErrorCode.NOT_FOUND, f"{what}: not found ({reason or 'no character'})")
        return _model(Character, body["character"], what)

    async def chat(self, chat_id: str) -> Chat | None:
        status, body = await self._call("GET", self._neo(f"/chat/{_segment(chat_id)}/"), f"getting chat {chat_id}")
        if status == 404 or not isinstance(body, dict) or not isinstance(body.get("chat"), dict):
            return None
        return _model(Chat, body["chat"], f"getting chat {chat_id}")

    async def recent_chat(self, character_id: str) -> Chat | None:
        """The most recent chat with a character; None when there is none (the API then omits ``chats``)."""
        url = self._neo(f"/chats/recent/{_segment(character_id)}")
        status, body = await self._call("GET", url, f"getting the recent chat with {character_id}")
        if status == 404 or not isinstance(body, dict):
            return None
        chats = body.get("chats")
        if not isinstance(chats, list) or not chats or not isinstance(chats[0], dict):
            return None
        return _model(Chat, chats[0], f"getting the recent chat with {character_id}")

    async def turns(self, chat_id: str, next_token: str | None = None) -> TurnsPage:
        what = f"reading the history of {chat_id}"
        params = {"next_token": next_token} if next_token else None
        status, body = await self._call("GET", self._neo(f"/turns/{_segment(chat_id)}/"), what, params=params)
        if status == 404:
            raise UpstreamError(ErrorCode.NOT_FOUND, f"{what}: no such chat")
        if not isinstance(body, dict):
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the answer is not a JSON object")
        return _model(TurnsPage, body, what)

    async def rooms(self) -> list[Room]:
        what = "listing rooms"
        status, body = await self._call("GET", self._neo("/murooms/"), what, params={"include_turns": "false"})
        if status == 404 or not isinstance(body, dict):
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: unexpected answer (HTTP {status})")
        return [_model(Room, item, what) for item in body.get("rooms") or [] if isinstance(item, dict)]

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> Room:
        what = f"creating room {title!r}"
        request = {
            "characters": character_ids,
            "title": title,
            "settings": {"anyone_can_join": False, "require_approval": False},
            "visibility": "VISIBILITY_UNLISTED",
            "with_greeting": with_greeting,
        }
        status, body = await self._call("POST", self._neo("/muroom/create"), what, body=request)
        if status == 404:
            raise UpstreamError(ErrorCode.NOT_FOUND, f"{what}: a character was not found")
        room = body.get("room", body) if isinstance(body, dict) else None
        if not isinstance(room, dict) or "id" not in room:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the answer holds no room id")
        return _model(Room, room, what)

    async def delete_room(self, room_id: str) -> None:
        what = f"deleting room {room_id}"
        status, _ = await self._call("DELETE", self._neo(f"/muroom/{_segment(room_id)}/"), what)
        if status == 404:
            raise UpstreamError(ErrorCode.NOT_FOUND, f"{what}: no such room")


def _parse(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        log.debug("non-JSON answer from Character.AI (%d bytes)", len(text))
        return None
