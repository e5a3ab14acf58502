"""The ASGI app that serves /metrics: the registry in OpenMetrics or text, off the event loop.

prometheus_client's own `make_asgi_app` renders the scrape on the event loop,
so every scrape would hold up whatever else the server does (the live view's
pushes) for its whole cost. This app renders in a worker thread
(`asyncio.to_thread`) and otherwise does what that app does:

* OpenMetrics 1.0.0 when the client accepts ``application/openmetrics-text``
  (Prometheus does), else the classic text format 0.0.4;
* gzip when the client accepts it (Prometheus does), at a fast level;
* only GET and HEAD; any other method is 405. Lifespan messages are answered, so
  the app also runs alone under uvicorn.

The OpenMetrics text is written here (`openmetrics_text`) from the registry's
samples, byte for byte what prometheus_client's `generate_latest` writes for
ringtest's metrics (tests/web/test_metrics.py compares them) in under half its
time: the library checks every name of every sample one character at a time,
and the scrape's cost is almost all rendering (bench/metrics_scrape.py). The
classic format is prometheus_client's, with ``allow-utf-8`` escaping, which
writes the same bytes as its default for legacy names such as ringtest's.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import exposition
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPENMETRICS = "application/openmetrics-text"
GZIP_LEVEL = 1
"""gzip level of a compressed scrape: the fastest (a scrape is compressed once, read once)."""


def openmetrics_text(registry: Collector) -> bytes:
    """`registry` in OpenMetrics 1.0.0: the bytes of prometheus_client's
    `openmetrics.generate_latest`, for metrics without exemplars, timestamps or
    native histograms (ringtest's have none) and with legacy names."""
    lines = []
    for family in registry.collect():
        lines.append(f"# HELP {family.name} {_escaped(family.documentation)}\n")
        lines.append(f"# TYPE {family.name} {family.type}\n")
        if family.unit:
            lines.append(f"# UNIT {family.name} {family.unit}\n")
        for sample in family.samples:
            labels = ",".join(
                f'{name}="{_escaped(value)}"' for name, value in sorted(sample.labels.items())
            )
            labels = "{" + labels + "}" if labels else ""
            lines.append(f"{sample.name}{labels} {floatToGoString(sample.value)}\n")
    lines.append("# EOF\n")
    return "".join(lines).encode()


def _escaped(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def render(registry: Collector, accept: str, accept_encoding: str) -> tuple[list, bytes]:
    """The response headers and body of one scrape of `registry` for these request headers."""
    if any(kind.split(";")[0].strip() == OPENMETRICS for kind in accept.split(",")):
        body = openmetrics_text(registry)
        content_type = openmetrics.CONTENT_TYPE_LATEST
    else:
        body = exposition.generate_latest(registry, escaping=openmetrics.ALLOWUTF8)
        content_type = exposition.CONTENT_TYPE_PLAIN_0_0_4
    headers = [(b"content-type", content_type.encode())]
    if "gzip" in accept_encoding:
        body = gzip.compress(body, compresslevel=GZIP_LEVEL)
        headers.append((b"content-encoding", b"gzip"))
    return headers, body


def make_metrics_app(registry: Collector) -> ASGIApp:
    """An ASGI app serving `registry` at whatever path it is routed or mounted on."""
    return MetricsApp(registry)


class MetricsApp:
    """The ASGI app of `make_metrics_app`: an object, so that a router (Starlette's
    ``Route``) serves it as an app at one exact path rather than as a request handler."""

    def __init__(self, registry: Collector) -> None:
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")], b"")
            return
        request = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        headers, body = await asyncio.to_thread(
            render, self.registry, request.get(b"accept", ""), request.get(b"accept-encoding", "")
        )
        await _respond(send, 200, headers, body if scope["method"] == "GET" else b"")


async def _respond(send: Send, status: int, headers: list, body: bytes) -> None:
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + length})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
