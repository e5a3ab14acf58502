"""The live view's guard: read-only, strict headers, and a token off loopback.

A pure ASGI middleware (it never buffers a stream, so SSE passes through):

* only GET and HEAD are served; anything else is 405 before anything runs;
* every response carries a Content-Security-Policy that allows only this
  server's own scripts, styles and event stream (nothing from a CDN), no
  framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``),
  ``X-Content-Type-Options: nosniff``, no referrer and no caching;
* with a token configured, a request must present it: an
  ``Authorization: Bearer`` header (tools), the ``ringtest_token`` cookie (the
  page), or once ``?token=`` on a page link, which answers with a redirect
  that sets the cookie and drops the token from the address bar. Tokens are
  compared with `hmac.compare_digest` and never logged; a refusal is 401 with
  no hint of the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "ringtest_token"
READ_METHODS = frozenset({"GET", "HEAD"})
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        b"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


class Guard:
    """Wraps `app`: read-only, strict headers, and `token` required when it is set."""

    def __init__(self, app: App, token: str | None) -> None:
        self.app = app
        self.token = None if token is None else token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        if scope["method"] not in READ_METHODS:
            await _plain(
                send_with_headers, 405, b"read-only: only GET is served", [(b"allow", b"GET, HEAD")]
            )
            return
        if self.token is not None:
            presented, from_query = _presented(scope)
            if presented is None or not hmac.compare_digest(presented, self.token):
                await _plain(send_with_headers, 401, b"a valid token is needed")
                return
            if from_query:
                await _redirect_setting_cookie(scope, send_with_headers, presented)
                return
        await self.app(scope, receive, send_with_headers)


def _presented(scope: Scope) -> tuple[bytes | None, bool]:
    """The token the request presents and whether it came in the query string."""
    headers = dict(scope.get("headers", []))
    authorization = headers.get(b"authorization", b"")
    if authorization.lower().startswith(b"bearer "):
        return authorization[7:].strip(), False
    cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
    if COOKIE in cookie:
        return cookie[COOKIE].value.encode(), False
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "token":
            return value.encode(), True
    return None, False


async def _redirect_setting_cookie(scope: Scope, send: Send, token: bytes) -> None:
    query = [
        (name, value)
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        if name != "token"
    ]
    location = scope["path"] + (f"?{urlencode(query)}" if query else "")
    cookie = f"{COOKIE}={token.decode()}; HttpOnly; SameSite=Strict; Path=/"
    await _plain(
        send, 303, b"", [(b"location", location.encode()), (b"set-cookie", cookie.encode())]
    )


async def _plain(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
