"""Server-Sent Events: every change pushed to every open page, whole.

One `Broadcaster` per server runs in its event loop. It waits until the feed
changed (a call rang, was answered, ended, an obligation moved, today's figures
were re-read), a ringing call's ring count goes up, or `TICK_SECONDS` passed
(countdowns and last-event ages move on their own), then renders the snapshot
once and hands the same text to every client. After a push it pauses (at least
`MIN_RENDER_SECONDS`, longer when rendering or sending got costly: `RENDER_SHARE`,
`PUSH_BYTES_PER_SECOND`), so a busy PBX with many pages open coalesces changes
into fewer pushes instead of slowing the listener. Each client holds only the
latest text (a slow client skips frames, never queues them), so 50 pages cost
one render per change.

A client's stream starts with ``retry:`` (how soon EventSource reconnects) and
the whole snapshot: a page that reconnects after a server restart catches up
with its first message. Comment lines keep idle proxies from closing the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import orjson

from ringtest.web.feed import LiveFeed

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
"""seconds between pushes while nothing changes: countdowns and event ages advance."""

MIN_RENDER_SECONDS = 0.02
"""seconds between two pushes at least: a burst of changes goes out as one snapshot."""

RENDER_SHARE = 0.1
"""The most of its time the server spends rendering: after a render that took t seconds it
waits t / RENDER_SHARE before the next, so a busy PBX never has it render continuously."""

PUSH_BYTES_PER_SECOND = 8_000_000
"""bytes per second pushed to all pages together at most (a snapshot to every page counts
once per page): many pages and a long work list space the pushes out, never the first."""

RECONNECT_MILLISECONDS = 1000
"""How soon a browser's EventSource reconnects after losing the stream."""


class Client:
    """One open stream: the latest rendered snapshot not yet sent."""

    def __init__(self) -> None:
        self.latest: bytes | None = None
        self.ready = asyncio.Event()

    def offer(self, text: bytes) -> None:
        self.latest = text
        self.ready.set()

    async def next_text(self) -> bytes:
        await self.ready.wait()
        self.ready.clear()
        text, self.latest = self.latest or b"", None
        return text


class Broadcaster:
    """Renders the feed's snapshot on each change and offers it to every client."""

    def __init__(self, feed: LiveFeed) -> None:
        self.feed = feed
        self.clients: set[Client] = set()
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._wake_pending = False

    def start(self) -> None:
        """Listen to the feed from this (running) event loop."""
        self._loop = asyncio.get_running_loop()
        self.feed.on_change(self._wake)

    def close(self) -> None:
        """End every client's stream (the server is stopping); call in the event loop."""
        self._closing = True
        self._changed.set()
        for client in self.clients:
            client.ready.set()

    def _wake(self) -> None:
        """Called on the stream's thread after each change: wake the loop once, however
        many changes come before it runs (one self-pipe write per burst, not per change)."""
        loop = self._loop
        if self._wake_pending or loop is None or loop.is_closed():
            return
        self._wake_pending = True
        loop.call_soon_threadsafe(self._wake_in_loop)

    def _wake_in_loop(self) -> None:
        self._wake_pending = False
        self._changed.set()

    def render(self) -> bytes:
        """The snapshot as one SSE message."""
        return b"event: snapshot\ndata: " + orjson.dumps(self.feed.snapshot()) + b"\n\n"

    async def run(self) -> None:
        """Push on every change, ring or tick until cancelled."""
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._seconds_to_wait())
            self._changed.clear()
            if self.clients and not self._closing:
                await asyncio.sleep(self._push())

    def _push(self) -> float:
        """Render once and offer it to every client; returns the seconds to pause after."""
        started = time.perf_counter()
        try:
            text = self.render()
        except Exception:  # one bad snapshot must not end the live view
            log.exception("the live view's snapshot failed; the pages keep the last one")
            return MIN_RENDER_SECONDS
        for client in self.clients:
            client.offer(text)
        render_seconds = time.perf_counter() - started
        return max(
            MIN_RENDER_SECONDS,
            render_seconds / RENDER_SHARE,
            len(text) * len(self.clients) / PUSH_BYTES_PER_SECOND,
        )

    def _seconds_to_wait(self) -> float:
        next_ring = self.feed.next_ring_at()
        if next_ring is None:
            return TICK_SECONDS
        until_ring = (next_ring - self.feed.clock()).total_seconds()
        return min(TICK_SECONDS, max(0.0, until_ring))

    async def stream(self) -> AsyncIterator[bytes]:
        """One client's stream: the retry delay and the whole snapshot, then every push."""
        client = Client()
        self.clients.add(client)
        try:
            yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
            yield self.render()
            while not self._closing:
                text = await client.next_text()
                if text:
                    yield text
        finally:
            self.clients.discard(client)
