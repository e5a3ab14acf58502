"""`ringtest reconcile`: the calls the listener stored, held against the PBX's own history.

The PBX writes every call in its CDR (`cdr_import`) or CEL (`cel_import`), read here
exactly as `ringtest import-cdr` / `import-cel` read them: the same calls to the same
monitored lines, under the same call id (the Linkedid, the listener's own). For a
period, `reconcile` pairs each history call with the stored call of that id and
reports:

* the calls the PBX saw that the listener did not store (`Reconciliation.missed`),
  each with the recorded `CoverageGap` that explains it (the listener was down or
  its link lost while the call was in progress), or none: a call missed with no gap
  recorded is what an admin must look into;
* the calls stored with another outcome than the history's (`Reconciliation.differing`),
  such as an ``incomplete`` call the PBX saw end.

`fill_missed` stores the missed calls, marked as imported: those inside a recorded
gap through the gap fill (`cdr_gap_fill.fill_with`, which also completes the
incomplete calls that gap cut, and is the daemon's own code), the others as the
import stores them (`Store.save_new_calls`). A call is compared by the instant it
started; the period is [since, until), UTC. Reading a file is blocking I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from ringtest.config import Settings
from ringtest.config.adapters import standards_of
from ringtest.core.errors import ReportError
from ringtest.core.records import CallRecord, CoverageGap
from ringtest.sources.cdr_gap_fill import (
    CDR_TIME_RESOLUTION,
    LONGEST_CALL,
    fill_with,
    overlaps,
)
from ringtest.sources.cdr_import import CdrImport, read_calls
from ringtest.sources.cel_gap_fill import completed_from_cel
from ringtest.sources.cel_import import CelImport, read_cel_calls
from ringtest.store import Store

LOOKUP_MARGIN = timedelta(minutes=1)
"""How far around the history's first and last start stored calls are looked up by id: a
CDR's start is cut to its second, and a call stored by the listener keeps its exact one."""


class HistoryKind(StrEnum):
    """Which history of the PBX a file is."""

    CDR = "CDR"
    CEL = "CEL"


@dataclass(frozen=True)
class MissedCall:
    """A call the PBX saw (`history`) and the listener did not store; gap: the recorded
    coverage gap it was in progress during, None when no gap explains it."""

    history: CallRecord
    gap: CoverageGap | None


@dataclass(frozen=True)
class DifferingCall:
    """A call stored with another outcome than the PBX's history gives it; gap: the
    recorded coverage gap it was in progress during, or None."""

    stored: CallRecord
    history: CallRecord
    gap: CoverageGap | None


@dataclass
class Reconciliation:
    """What a reconcile found. history_calls: the history's calls to monitored lines in
    the period; stored_calls: those stored (by the listener or an earlier import); filled:
    missed calls stored by `fill_missed`; completed: incomplete calls it completed."""

    source: str
    history_calls: int = 0
    stored_calls: int = 0
    missed: list[MissedCall] = field(default_factory=list)
    differing: list[DifferingCall] = field(default_factory=list)
    filled: int = 0
    completed: int = 0

    @property
    def explained(self) -> int:
        """Missed calls that a recorded coverage gap explains."""
        return sum(1 for missed in self.missed if missed.gap is not None)


def reconcile(
    path: Path,
    kind: HistoryKind,
    settings: Settings,
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> Reconciliation:
    """Compare the calls stored on `settings.ami.pbx` that started in [since, until) (None:
    the history's first and last call) with those `path` holds; `on_bytes` is called with
    the size of each piece of the file as it is read. Raises `ReportError` when the file
    cannot be read."""
    history = [
        call
        for call in read_history(path, kind, settings, on_bytes)
        if (since is None or call.started_at >= since)
        and (until is None or call.started_at < until)
    ]
    result = Reconciliation(source=f"Asterisk {kind.value} {path.name}", history_calls=len(history))
    if not history:
        return result
    first = min(call.started_at for call in history)
    last = max(call.started_at for call in history)
    stored = {
        call.call_id: call
        for call in store.iter_calls(first - LOOKUP_MARGIN, last + LOOKUP_MARGIN)
        if call.pbx == settings.ami.pbx
    }
    gaps = store.gaps(first - LONGEST_CALL, last + LOOKUP_MARGIN, pbx=settings.ami.pbx)
    for call in history:
        known = stored.get(call.call_id)
        if known is None:
            result.missed.append(MissedCall(call, _gap_of(call, gaps)))
            continue
        result.stored_calls += 1
        if known.outcome is not call.outcome:
            result.differing.append(DifferingCall(known, call, _gap_of(call, gaps)))
    return result


def fill_missed(
    result: Reconciliation, kind: HistoryKind, settings: Settings, store: Store
) -> Reconciliation:
    """Store `result`'s missed calls, marked as imported from its source: through the gap
    fill for each recorded gap a missed or differing call was in progress during (which
    takes the calls that started inside it and completes the incomplete calls it cut),
    the rest (and a gap's calls that started before it) as the import stores them."""
    ring_rule = standards_of(settings).ring_rule
    completion = completed_from_cel if kind is HistoryKind.CEL else None
    resolution = CDR_TIME_RESOLUTION if kind is HistoryKind.CDR else timedelta(0)
    seen = [*result.missed, *result.differing]
    gaps = dict.fromkeys(found.gap for found in seen if found.gap is not None)
    for gap in gaps:
        history = [found.history for found in seen if overlaps(found.history, gap)]
        done = fill_with(gap, store, history, result.source, ring_rule, completion, resolution)
        result.filled += done.calls_imported
        result.completed += done.calls_upgraded
    result.filled += store.save_new_calls(missed.history for missed in result.missed)
    return result


def read_history(
    path: Path,
    kind: HistoryKind,
    settings: Settings,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> Iterator[CallRecord]:
    """Every call to a monitored line in `path`, read as `import-cdr` / `import-cel` do
    (the CDR's clock as `[history] times_are_local` and its uniqueids say), streamed.
    Raises `ReportError` at the first call taken when the file cannot be read."""
    try:
        file = path.open("rb")
    except OSError as error:
        raise ReportError(
            f"{kind.value} file '{path}' cannot be read ({error.strerror or error}): "
            "check the path and its permissions"
        ) from None
    with file:
        yield from _calls_of(file, kind, settings, path.name, on_bytes)


def _calls_of(
    file: Iterable[bytes],
    kind: HistoryKind,
    settings: Settings,
    name: str,
    on_bytes: Callable[[int], None],
) -> Iterable[CallRecord]:
    if kind is HistoryKind.CEL:
        return read_cel_calls(file, settings, CelImport(), name, on_bytes)
    return read_calls(file, settings, CdrImport(), settings.history.times_are_local, name, on_bytes)


def _gap_of(call: CallRecord, gaps: list[CoverageGap]) -> CoverageGap | None:
    """The first recorded gap `call` was in progress during, else None."""
    return next((gap for gap in gaps if overlaps(call, gap)), None)
