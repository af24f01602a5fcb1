"""Typed aiohttp application keys shared by the handler modules."""

from __future__ import annotations

from aiohttp import web

from fakes.characterai.world import FakeWorld

WORLD_KEY = web.AppKey("characterai_world", FakeWorld)
# every open websocket (DM and room), so stop() can close them promptly
SOCKETS_KEY: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("characterai_sockets")
