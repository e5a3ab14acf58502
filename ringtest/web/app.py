"""The live view's ASGI app: the page, its event stream and the JSON API, behind the guard.

`build_web_app` assembles the routes over one `LiveFeed`:

* ``/``: the page (``static/index.html``), and ``/static/...``: its CSS and JS,
  served from the package itself (nothing from outside: councils run this on
  closed networks);
* ``/events``: Server-Sent Events (`ringtest.web.sse`);
* ``/api/...``: the JSON API (`ringtest.web.api`);
* `extra_routes`: other read-only routes mounted beside them (``/metrics``).

Every route sits behind `ringtest.web.security.Guard`; the broadcaster is
``guard.app.state.broadcaster`` (the server ends its streams before stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from importlib.resources import files

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ringtest.web.api import api_routes
from ringtest.web.feed import LiveFeed
from ringtest.web.security import Guard
from ringtest.web.sse import Broadcaster

STATIC = files("ringtest.web").joinpath("static")


def build_web_app(
    feed: LiveFeed, token: str | None = None, extra_routes: Sequence[BaseRoute] = ()
) -> Guard:
    """The live view over `feed`; `token` required on every request when set.

    extra_routes: mounted as given, e.g. ``[Mount("/metrics", app=metrics_app)]``.
    """
    broadcaster = Broadcaster(feed)

    async def page(request: Request) -> Response:
        return FileResponse(str(STATIC.joinpath("index.html")), media_type="text/html")

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def events(request: Request) -> Response:
        return StreamingResponse(
            broadcaster.stream(),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        broadcaster.start()
        async with _running(broadcaster):
            yield

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/events", events, methods=["GET"]),
            Route("/favicon.ico", no_icon, methods=["GET"]),
            *api_routes(feed),
            Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
            *extra_routes,
        ],
        lifespan=lifespan,
    )
    app.state.broadcaster = broadcaster
    return Guard(app, token)


@contextlib.asynccontextmanager
async def _running(broadcaster: Broadcaster) -> AsyncIterator[None]:
    task = asyncio.create_task(broadcaster.run(), name="live-view-broadcaster")
    try:
        yield
    finally:
        broadcaster.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
