"""Serving the live view: uvicorn on its own thread, and the `WebService` a daemon hosts.

`WebServer` binds its socket itself (so a port in use is one clear line, and
port 0 gives a free port that `port` then names) and runs uvicorn's event loop
on a named thread until stopped. uvicorn's access log is off: a request line
could carry the ``?token=`` of a first visit, and no log line may.

`WebService` is what `ringtest run` and `ringtest listen` host beside the
listener (`ringtest.services.assembly`): it seeds the `LiveFeed` from the store,
serves it, and re-reads today's figures from the store whenever the store
writer stored something and at local midnight. A port in use is logged once
and the daemon goes on without its live view: the listener matters more.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time

import uvicorn

from ringtest.config import Settings
from ringtest.config.adapters import metric_rules_of, standards_of
from ringtest.core.errors import RingtestError
from ringtest.store import Store
from ringtest.web.feed import LiveFeed
from ringtest.web.security import Guard

log = logging.getLogger(__name__)

STARTED_WITHIN_SECONDS = 10.0
"""seconds `WebServer.start` waits for uvicorn to serve."""

GRACEFUL_STOP_SECONDS = 1.0
"""seconds uvicorn gives open requests (event streams never end by themselves) at stop."""

MIN_REFRESH_SECONDS = 0.25
"""seconds between two readings of today's figures at most (the store may be busy)."""

REFRESH_SHARE = 0.1
"""The share of one core re-reading today's figures may take: after a reading that took
d seconds the next waits at least d / REFRESH_SHARE, so on a busy day (a long read) the
figures lag a little rather than the listener."""

DAY_REFRESH_SECONDS = 60.0
"""The longest seconds between two readings of today's figures with nothing stored."""


class WebServerError(RingtestError):
    """The live view's address could not be bound."""


class WebServer:
    """uvicorn serving `app` on `bind`:`port` (0: a free port) from its own thread."""

    def __init__(self, app: Guard, bind: str, port: int) -> None:
        self.app = app
        self.bind = bind
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}/"

    def start(self) -> WebServer:
        """Bind, then serve on a thread; `WebServerError` when the address is taken."""
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.bind, self.port))
        except OSError as error:
            sock.close()
            raise WebServerError(
                f"the live view cannot listen on {self.bind}:{self.port} ({error.strerror}): "
                "set web.port to a free port, or web.enabled = false"
            ) from error
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="ringtest-web", daemon=True
        )
        self._thread.start()
        if not self._started.wait(STARTED_WITHIN_SECONDS):
            raise WebServerError(f"the live view on {self.url} did not start in time")
        return self

    def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._serve_in_loop(sock))
        finally:
            sock.close()

    async def _serve_in_loop(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._loop = asyncio.get_running_loop()
        serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not serving.done():
            await asyncio.sleep(0.01)
        self._started.set()
        await serving

    def stop(self) -> None:
        """End every event stream, stop serving and join the thread."""
        server, loop = self._server, self._loop
        if server is None or self._thread is None:
            return
        broadcaster = self.app.app.state.broadcaster
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(broadcaster.close)
        server.should_exit = True
        self._thread.join(GRACEFUL_STOP_SECONDS + 5.0)

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def feed_for(settings: Settings, store: Store) -> LiveFeed:
    """The live feed of the configured lines, standards and calendar over `store`."""
    return LiveFeed(
        store,
        standards_of(settings),
        metric_rules_of(settings),
        [line.department for line in settings.lines],
        pbxs=settings.pbx_names(),
        show_numbers=settings.web.show_caller_numbers,
    )


class WebService:
    """The live view in a daemon: serves `feed` until stopped (a `Service`).

    The feed must already be subscribed to the stream (before the listener starts,
    so no change is missed); `build_web_app` makes the app.
    """

    name = "web"

    def __init__(self, settings: Settings, feed: LiveFeed, app: Guard) -> None:
        self.settings = settings
        self.feed = feed
        self.app = app
        self.server: WebServer | None = None

    def run(self, stop: threading.Event) -> None:
        web = self.settings.web
        self.feed.seed()
        self.feed.refresh_day()
        server = WebServer(self.app, web.bind, web.port)
        try:
            server.start()
        except WebServerError as error:
            log.error("%s; the daemon runs on without it", error)
            stop.wait()
            return
        self.server = server
        gc.freeze()
        log.info("live view on %s", server.url)
        try:
            self._refresh_until(stop)
        finally:
            server.stop()

    def reload(self, settings: Settings) -> None:
        """Count rings, deadlines and today's figures by `settings`' lines and standards."""
        self.feed.reconfigure(
            standards_of(settings),
            metric_rules_of(settings),
            [line.department for line in settings.lines],
        )

    def _refresh_until(self, stop: threading.Event) -> None:
        """Re-read today's figures when the store took something (at most every
        `MIN_REFRESH_SECONDS`, and within `REFRESH_SHARE` of a core), at local midnight and
        every `DAY_REFRESH_SECONDS`."""
        next_read = time.monotonic() + DAY_REFRESH_SECONDS
        pause = MIN_REFRESH_SECONDS
        while not stop.wait(pause):
            stale = self.feed.day_wanted.is_set() or self.feed.a_new_day()
            if stale or time.monotonic() >= next_read:
                self.feed.day_wanted.clear()
                began = time.monotonic()
                self._refresh()
                took = time.monotonic() - began
                pause = max(MIN_REFRESH_SECONDS, took / REFRESH_SHARE - took)
                next_read = time.monotonic() + DAY_REFRESH_SECONDS

    def _refresh(self) -> None:
        try:
            self.feed.refresh_day()
        except Exception as error:  # a store hiccup must not end the live view
            log.warning("today's figures not re-read: %s: %s", type(error).__name__, error)
