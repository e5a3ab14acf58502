"""The daemon's gap filler: each coverage gap filled from the PBX's CEL or CDR after the reconnect.

Theory of operation. The listener publishes a `GapObserved` once it has
resynchronised after a gap (`CoverageGap`: it was down, its link was lost, the
PBX restarted). `GapFillService.handle`, subscribed to the record stream, only
queues the gap: the listener's loop is never held. The service's own thread
then runs passes over the PBX's history file (`history_file`: the `[history]
cel_file` by `ringtest.sources.cel_gap_fill.fill_gap_from_cel`, exact, when it is
set, else the `cdr_file` by `ringtest.sources.cdr_gap_fill.fill_gap`),
`FILL_PASS_DELAYS_SECONDS` after the gap was published.

When to read. Asterisk writes a call's CDR rows at its hang-up (and a pass
imports a call from the CEL once its hang-ups are there), so a pass sees the
calls that started in the gap and have ended. A call that ended during the
gap is there at the first pass (a few seconds after the resync). A call still
up at the resync was adopted by the listener (`CoreShowChannels`) and is stored
by it, often ``incomplete``; its CDR comes when it ends, and a later pass
completes it. So passes repeat, at 5 s, 30 s, 2 min and 10 min, and stop early
once `QUIET_PASSES_TO_STOP` passes in a row found nothing new (the calls of the
gap have ended: queue and ring timeouts end an unanswered call within minutes).
A call still up 10 minutes after the gap (a long conversation) is completed by
`ringtest import-cdr` later, or stays ``incomplete``.

Every successful pass stores the gap's `GapFill` (its totals so far, and whether its
passes are over), which `ringtest gaps` lists; the first one, and any later one that
found more, logs one INFO line without caller numbers. A pass that fails (the file
rotated away, unreadable, the store down) is one WARNING line; the gap stays
unfilled unless a later pass succeeds. A history file that cannot be read when the
service starts is one WARNING line, and the daemon runs on without filling.

A restart resumes. When the service starts, every stored gap of its PBX that ended
in the last `RESUME_GAPS_WITHIN` and whose fill is not over (the daemon stopped
between its passes, before its first, or while no history file was set) is queued
again: its passes run on the schedule they would have had since the gap ended,
the last one missed at once, and its totals go on from the stored fill.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringtest.config import Settings
from ringtest.core.records import CoverageGap, GapFill
from ringtest.core.stream import Change, GapObserved, RecordStream
from ringtest.sources.cdr_gap_fill import FillPass, fill_gap, gap_span
from ringtest.sources.cel_gap_fill import fill_gap_from_cel
from ringtest.store import Store

log = logging.getLogger(__name__)

FILL_PASS_DELAYS_SECONDS = (5.0, 30.0, 120.0, 600.0)
"""Monotonic seconds after a gap is published at which its passes run; the last is the bound."""

QUIET_PASSES_TO_STOP = 2
"""Passes in a row that found nothing new after which a gap's fill is over."""

RESUME_GAPS_WITHIN = timedelta(days=7)
"""How far back a start looks for gaps whose fill is not over (older CDR is often rotated)."""

POLL_SECONDS = 0.5
"""The longest the service sleeps before looking at its stop event and new gaps again."""


@dataclass(frozen=True)
class HistoryFile:
    """The file gaps are filled from. kind: ``CEL`` or ``CDR`` (for log lines); setting:
    its dotted setting; fill: one pass over it."""

    kind: str
    setting: str
    path: Path
    fill: Callable[[CoverageGap, Settings, Store, Path], FillPass]


def history_file(settings: Settings) -> HistoryFile | None:
    """The `[history]` file gaps are filled from: the CEL in preference to the CDR; None
    when neither is set."""
    history = settings.history
    if history.cel_file is not None:
        return HistoryFile("CEL", "history.cel_file", history.cel_file, fill_gap_from_cel)
    if history.cdr_file is not None:
        return HistoryFile("CDR", "history.cdr_file", history.cdr_file, fill_gap)
    return None


@dataclass
class PendingFill:
    """A gap being filled: its passes so far and what they added (totals)."""

    gap: CoverageGap
    published_at: float
    passes_done: int = 0
    quiet_passes: int = 0
    calls_imported: int = 0
    calls_upgraded: int = 0
    filled: bool = False


class GapFillService:
    """Fills each gap of one PBX (`settings.ami.pbx`, a `Settings.pbx_views` view) that the
    stream reports, from `history_file(settings)` (see the module).

    It subscribes to `stream` when built, so that no gap published before its thread
    starts is missed. clock: monotonic seconds; now: the current UTC instant (tests
    pass their own). fills_done: gaps whose passes are over.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        stream: RecordStream,
        pass_delays_seconds: Sequence[float] = FILL_PASS_DELAYS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        source = history_file(settings)
        assert source is not None, "GapFillService needs [history] cel_file or cdr_file"
        self.name = f"gap fill {settings.ami.pbx}"
        self.settings = settings
        self.store = store
        self.source = source
        self.pass_delays_seconds = tuple(pass_delays_seconds)
        self.clock = clock
        self.now = now
        self.fills_done = 0
        self._pending: list[PendingFill] = []
        self._lock = threading.Lock()
        stream.subscribe(self.name, self.handle)

    def handle(self, changes: Sequence[Change]) -> None:
        """Queue each gap of this PBX (a stream handler; never blocks on I/O)."""
        gaps = [
            change.gap
            for change in changes
            if isinstance(change, GapObserved) and change.gap.pbx == self.settings.ami.pbx
        ]
        if gaps:
            published_at = self.clock()
            with self._lock:
                self._pending += [PendingFill(gap, published_at) for gap in gaps]

    def run(self, stop: threading.Event) -> None:
        problem = unreadable(self.source.path)
        if problem is not None:
            log.warning(
                "%s '%s' cannot be read (%s): gaps will not be filled from the "
                "%s; check the path and that ringtest may read it",
                self.source.setting,
                self.source.path,
                problem,
                self.source.kind,
            )
            stop.wait()
            return
        self._resume_unfinished_fills()
        while not stop.is_set():
            due = self._next_due()
            if due is None:
                stop.wait(POLL_SECONDS)
                continue
            self._run_pass(due)

    def _resume_unfinished_fills(self) -> None:
        """Queue the stored gaps of this PBX whose fill is not over (see the module)."""
        now = self.now()
        pbx = self.settings.ami.pbx
        stored = {fill.gap_started_at: fill for fill in self.store.gap_fills(pbx)}
        resumed = [
            self._resumed(gap, stored.get(gap.started_at), now)
            for gap in self.store.gaps(since=now - RESUME_GAPS_WITHIN, pbx=pbx)
            if not (gap.started_at in stored and stored[gap.started_at].passes_over)
        ]
        if resumed:
            log.info(
                "resuming the %s fill of %d gaps not filled to the end",
                self.source.kind,
                len(resumed),
            )
            with self._lock:
                self._pending += resumed

    def _resumed(self, gap: CoverageGap, stored: GapFill | None, now: datetime) -> PendingFill:
        """`gap` queued as if published when it ended: the passes already due but one are
        counted done, so the latest one due runs at once."""
        since_ended_seconds = max((now - gap.ended_at).total_seconds(), 0.0)
        passes_due = sum(delay <= since_ended_seconds for delay in self.pass_delays_seconds)
        return PendingFill(
            gap,
            published_at=self.clock() - since_ended_seconds,
            passes_done=max(passes_due - 1, 0),
            calls_imported=stored.calls_imported if stored else 0,
            calls_upgraded=stored.calls_upgraded if stored else 0,
            filled=stored is not None,
        )

    @property
    def pending(self) -> int:
        """Gaps whose passes are not over."""
        with self._lock:
            return len(self._pending)

    def _next_due(self) -> PendingFill | None:
        with self._lock:
            for fill in self._pending:
                if self.clock() >= fill.published_at + self.pass_delays_seconds[fill.passes_done]:
                    return fill
        return None

    def _run_pass(self, fill: PendingFill) -> None:
        """One pass over the file for `fill`, over after the last pass or enough quiet ones."""
        fill.passes_done += 1
        try:
            found = self.source.fill(fill.gap, self.settings, self.store, self.source.path)
            fill.calls_imported += found.calls_imported
            fill.calls_upgraded += found.calls_upgraded
            found_more = found.calls_imported + found.calls_upgraded > 0
            fill.quiet_passes = 0 if found_more else fill.quiet_passes + 1
            self.store.save_gap_fill(
                GapFill(
                    pbx=fill.gap.pbx,
                    gap_started_at=fill.gap.started_at,
                    source=self.source.path.name,
                    filled_at=self.now(),
                    calls_imported=fill.calls_imported,
                    calls_upgraded=fill.calls_upgraded,
                    passes_over=self._passes_over(fill),
                )
            )
        except Exception as error:
            fill.quiet_passes = 0
            log.warning(
                "could not fill gap %s from %s %s: %s: %s (the gap stays %s; pass %d of %d)",
                gap_span(fill.gap),
                self.source.kind,
                self.source.path,
                type(error).__name__,
                error,
                "filled as before" if fill.filled else "unfilled",
                fill.passes_done,
                len(self.pass_delays_seconds),
            )
        else:
            if found_more or not fill.filled:
                log.info(
                    "filled gap %s from %s %s: %d calls (%d incomplete calls completed)",
                    gap_span(fill.gap),
                    self.source.kind,
                    self.source.path,
                    fill.calls_imported,
                    fill.calls_upgraded,
                )
            fill.filled = True
        if self._passes_over(fill):
            with self._lock:
                self._pending.remove(fill)
            self.fills_done += 1

    def _passes_over(self, fill: PendingFill) -> bool:
        return (
            fill.passes_done == len(self.pass_delays_seconds)
            or fill.quiet_passes >= QUIET_PASSES_TO_STOP
        )


def unreadable(path: Path) -> str | None:
    """Why `path` cannot be read as a file (``No such file or directory``), None if it can."""
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None
