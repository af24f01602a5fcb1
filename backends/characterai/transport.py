"""Opening a Character.AI websocket: cookie auth, handshake errors mapped, the token kept out of logs."""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import redact, wire_logger
from bot.upstream.base import ErrorCode, UpstreamError


class ConnectionDropped(Exception):
    """The websocket closed while a request was waiting for its reply (internal; never leaves the package)."""


def next_delay(config: CharacterAIConfig, previous: float | None) -> float:
    if previous is None:
        return config.reconnect_initial
    return min(previous * 2, config.reconnect_max)


async def open_websocket(config: CharacterAIConfig, url: str, what: str) -> ClientConnection:
    """Connect with the auth cookie. 401/403 on the upgrade means a bad token (or a block) → AUTH."""
    try:
        return await connect(
            url,
            additional_headers={"Cookie": config.auth_cookie(), "Origin": "https://character.ai"},
            user_agent_header=config.user_agent,
            open_timeout=config.connect_timeout,
            proxy=None,
            logger=wire_logger(),
            max_size=8 * 1024 * 1024,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise UpstreamError(
                ErrorCode.AUTH,
                f"{what}: Character.AI refused the websocket with HTTP {status}; "
                "the token is invalid (or the client is blocked)",
            ) from None
        raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: websocket upgrade refused with HTTP {status}") from None
    except InvalidURI:
        raise UpstreamError(ErrorCode.INVALID, f"{what}: the websocket URL is not valid") from None
    except TimeoutError:
        raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: opening the websocket timed out") from None
    except (OSError, InvalidHandshake) as exc:
        raise UpstreamError(
            ErrorCode.UNAVAILABLE, redact(f"{what}: cannot open the websocket: {type(exc).__name__}: {exc}")
        ) from None
