"""Reading the credential the way the service does: a header for REST, a cookie for websockets."""

from __future__ import annotations

from aiohttp import web

from fakes.characterai.wire import parse_cookie_header, strip_token_prefix


def token_from_header(request: web.Request) -> str | None:
    """``Authorization: Token <key>`` (a bare key is accepted too)."""
    value = request.headers.get("Authorization", "")
    return strip_token_prefix(value) or None


def token_from_cookie(request: web.Request) -> str | None:
    """``HTTP_AUTHORIZATION="Token <key>"`` or the unquoted ``Token <key>``; other cookies are ignored."""
    cookies: dict[str, str] = {}
    for header in request.headers.getall("Cookie", []):
        cookies.update(parse_cookie_header(header))
    value = cookies.get("HTTP_AUTHORIZATION", "")
    return strip_token_prefix(value) or None
