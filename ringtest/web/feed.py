"""The live view's one source of truth in a running process: `LiveFeed`.

The record stream's publisher threads (the listener's loop, SIP threads) hand
their changes to `handle`; the store writer's thread tells `stored` when
calls reached the store; the web server's event loop reads. `LiveFeed` keeps the
pure `LiveBoard` behind one lock and turns every reading into the same JSON-ready
dicts (`analysis.live_view`), so the page, the pushed updates and the API
cannot differ.

Today's figures are re-read from the store (`analysis.live_day`) after each
write that stored a call, ring test or obligation, and at local midnight, by
`refresh_day`, which the web service runs on its own thread: the stream's
publishers never wait for a database.

Listeners of changes (the SSE broadcaster) register a plain callable with
`on_change`; it is called on the publisher's thread and must only schedule work
(e.g. `loop.call_soon_threadsafe`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from ami_listener.stats import ListenerStats
from analysis.live_board import LiveBoard
from analysis.live_day import day_bounds, day_figures, local_today, pbx_day_figures
from analysis.live_view import (
    ListenerHealth,
    callbacks_view,
    ringing_view,
    snapshot,
    today_view,
)
from ringtest.core.records import CallbackStatus
from ringtest.core.standards import MetricRules, Standards
from ringtest.core.stream import Change
from ringtest.store import Store

log = logging.getLogger(__name__)

SEED_CALLS_BEFORE_MISS = timedelta(days=1)
"""How long before an owed obligation's miss its call may have started (read at start)."""


class LiveFeed:
    """The live board of one process, fed by the stream and the store, read by the server.

    pbxs: the listeners' PBXs, whose coverage gaps count. show_numbers: `[web]
    show_caller_numbers`. clock: the current aware UTC time (tests pass their own).
    """

    def __init__(
        self,
        store: Store,
        standards: Standards,
        rules: MetricRules,
        departments: Sequence[str],
        pbxs: Sequence[str],
        show_numbers: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.rules = rules
        self.pbxs = set(pbxs)
        self.show_numbers = show_numbers
        self.clock = clock
        self.health = ListenerHealth()
        self.board = LiveBoard(standards, departments)
        self.day_read: date | None = None
        self.day_wanted = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def reconfigure(
        self, standards: Standards, rules: MetricRules, departments: Sequence[str]
    ) -> None:
        """New standards, metric rules and departments (a settings reload); today's figures
        are read again."""
        with self._lock:
            self.rules = rules
            self.board.standards = standards
            self.board.departments = list(dict.fromkeys(departments))
        self.day_wanted.set()

    def watch_listener(self, stats: ListenerStats) -> None:
        """Show the health of the in-process listener whose stats these are."""
        self.health.watch(stats)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` (on the changing thread) after each change to what is shown."""
        self._listeners.append(listener)

    def handle(self, changes: Sequence[Change]) -> None:
        """A record-stream handler: fold the changes in and tell the listeners."""
        with self._lock:
            changed = self.board.apply(changes)
        if changed:
            self._changed()

    def stored(self, changes: Sequence[Change]) -> None:
        """The store writer stored `changes`: today's figures are to be read again."""
        self.day_wanted.set()

    def seed(self) -> None:
        """Restore the obligations still owed, and what their callers met, from the store."""
        owed = [
            obligation
            for status in (CallbackStatus.OPEN, CallbackStatus.OVERDUE)
            for obligation in self.store.obligations(status)
        ]
        calls = []
        if owed:
            keys = {(ob.pbx, ob.call_id) for ob in owed}
            since = min(ob.missed_at for ob in owed) - SEED_CALLS_BEFORE_MISS
            until = max(ob.missed_at for ob in owed) + timedelta(microseconds=1)
            calls = [
                call
                for call in self.store.iter_calls(since, until)
                if (call.pbx, call.call_id) in keys
            ]
        with self._lock:
            self.board.seed(owed, calls)
        self._changed()

    def refresh_day(self) -> None:
        """Read today's figures (local calendar day) and coverage gaps from the store."""
        now = self.clock()
        today = local_today(now, self.rules)
        figures = day_figures(self.store, self.rules, self.board.departments, today, now=now)
        several = sorted(self.pbxs) if len(self.pbxs) > 1 else []
        per_pbx = pbx_day_figures(self.store, self.rules, several, today, now=now)
        since, until = day_bounds(today, self.rules)
        gaps = sum(gap.pbx in self.pbxs for gap in self.store.gaps(since, min(until, now)))
        with self._lock:
            self.board.set_day_figures(figures, gaps, per_pbx)
        self.day_read = today
        self._changed()

    def a_new_day(self) -> bool:
        """True when the local calendar day has changed since today's figures were read."""
        return local_today(self.clock(), self.rules) != self.day_read

    def pbx_now(self) -> datetime:
        """Now on the PBX's clock (ours plus its measured offset): rings are timed from the
        PBX's own Timestamps."""
        stats = self.health.stats
        offset = stats.clock_offset_seconds if stats is not None else None
        now = self.clock()
        return now if offset is None else now + timedelta(seconds=offset)

    def next_ring_at(self) -> datetime | None:
        """On our clock, when the next ringing call's ring count goes up; None: none rings."""
        pbx_now = self.pbx_now()
        with self._lock:
            next_ring = self.board.next_ring_at(pbx_now)
        return None if next_ring is None else self.clock() + (next_ring - pbx_now)

    def snapshot(self) -> dict[str, object]:
        """Everything the page shows."""
        return snapshot(self._board_now(), self.health, self.pbx_now(), self.show_numbers)

    def today(self) -> list[dict[str, object]]:
        return today_view(self._board_now(), self.pbx_now())

    def ringing(self) -> list[dict[str, object]]:
        return ringing_view(self._board_now(), self.pbx_now())

    def callbacks(self) -> dict[str, object]:
        return callbacks_view(self._board_now(), self.pbx_now(), self.show_numbers)

    def _board_now(self) -> LiveBoard:
        """A copy of the board, taken under the lock and read without it, so rendering
        (10,000 owed callbacks take a while) never holds up the stream's publishers."""
        with self._lock:
            return self.board.copy()

    def _changed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("a live view listener failed")
