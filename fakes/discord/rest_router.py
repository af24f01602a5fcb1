"""Registers REST routes under /api/v10 with the checks every Discord route shares.

Each route is wrapped so that it reads the body (JSON or multipart `payload_json`), applies scripted faults,
checks `Authorization: Bot <token>` (token routes skip it), applies the global and per-route rate limits,
turns DiscordError into Discord's error body, adds the X-RateLimit-* headers and logs the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .core import FakeCore, RequestRecord
from .ratelimits import GLOBAL_BUCKET, Verdict
from .wire import DiscordError, json_response, unauthorized

API_PREFIX = "/api/v10"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAYLOAD = web.RequestKey("discord_payload", object)
RATELIMIT_HEADERS = web.RequestKey("discord_ratelimit_headers", dict)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    handler: Handler
    auth: bool = True
    bucket: str | None = None  # rule name in FakeCore.bucket_rule
    major: str | None = None  # match_info key the bucket is split by


def payload_of(request: web.Request) -> dict[str, Any]:
    payload = request.get(PAYLOAD)
    return payload if isinstance(payload, dict) else {}


async def read_payload(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload: dict[str, Any] = json.loads(str(form.get("payload_json") or "{}"))
        files = [
            {"id": str(index), "filename": getattr(value, "filename", "file"), "size": 0}
            for index, (key, value) in enumerate(form.items())
            if key != "payload_json"
        ]
        if files:
            payload["attachments"] = files
        return payload
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class RateLimitedError(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__("rate limited")
        self.verdict = verdict


def enforce_bucket(
    core: FakeCore, request: web.Request, name: str, major: str, *, scope: str = "user", announce: bool = True
) -> None:
    """Count the request against bucket `name`; raise RateLimitedError (a 429) when it is exhausted.
    `scope` and `announce` as in `RateLimiter.check`."""
    rule = core.bucket_rule(name)
    if rule is None:
        return
    verdict = core.limiter.check(name, rule, major, scope=scope, announce=announce)
    if not verdict.allowed:
        core.state_changed()
        raise RateLimitedError(verdict)
    if verdict.headers:
        request[RATELIMIT_HEADERS] = verdict.headers


def rate_limited_response(verdict: Verdict) -> web.Response:
    body = {"message": "You are being rate limited.", "retry_after": verdict.retry_after, "global": verdict.is_global}
    return json_response(body, status=429, headers=verdict.headers)


class RestRouter:
    def __init__(self, core: FakeCore, app: web.Application) -> None:
        self._core = core
        self._app = app

    def add(self, spec: RouteSpec) -> None:
        self._app.router.add_route(spec.method, API_PREFIX + spec.path, self._wrap(spec))

    def _wrap(self, spec: RouteSpec) -> Handler:
        core = self._core

        async def handle(request: web.Request) -> web.StreamResponse:
            request[PAYLOAD] = await read_payload(request)
            response = await self._respond(spec, request)
            core.record_request(
                RequestRecord(
                    at=time.monotonic(),
                    method=request.method,
                    path=request.path,
                    route=spec.path,
                    status=response.status,
                    payload=request[PAYLOAD],
                    query=dict(request.query),
                )
            )
            return response

        return handle

    async def _respond(self, spec: RouteSpec, request: web.Request) -> web.StreamResponse:
        core = self._core
        limiter = core.limiter
        now = limiter.now()
        for rule in core.faults:
            early = rule.status == 429 and now < rule.blocked_until - limiter.grace
            if early and rule.applies_to(request.method, request.path):
                limiter.penalty(f"fault:{rule.path_pattern}", rule.blocked_until - now)
        for rule in core.faults:
            if rule.matches(request.method, request.path):
                rule.hits += 1
                if rule.status == 429:
                    rule.blocked_until = now + rule.retry_after
                core.state_changed()
                return json_response(rule.body(), status=rule.status, headers=rule.headers())
        try:
            if spec.auth and request.headers.get("Authorization") != f"Bot {core.config.token}":
                raise unauthorized()
            if spec.auth:
                enforce_bucket(core, request, GLOBAL_BUCKET, "bot")
            if spec.bucket is not None:
                enforce_bucket(core, request, spec.bucket, request.match_info.get(spec.major or "", ""))
            response = await spec.handler(request)
        except RateLimitedError as limited:
            return rate_limited_response(limited.verdict)
        except DiscordError as error:
            response = json_response(error.body(), status=error.status)
        response.headers.update(request.get(RATELIMIT_HEADERS) or {})
        return response
