"""A bare discord.py client connected to the fake Discord, for tests that need discord.py's own objects (messages,
interactions) built from what the fake sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import discord
import yarl

from fakes.discord import FakeDiscord

C = TypeVar("C", bound=discord.Client)


@contextlib.asynccontextmanager
async def connected(fake: FakeDiscord, client: C, token: str) -> AsyncIterator[C]:
    """``client`` logged in to ``fake`` and ready; discord.py's endpoints are restored afterwards."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    task = asyncio.create_task(client.start(token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await task
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
