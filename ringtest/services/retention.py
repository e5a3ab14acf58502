"""Retention: pseudonymise caller numbers and delete what is kept no longer, once a day.

`apply_retention(settings, store, now)` is the whole job; the daemon's daily job
(`RetentionService`, hosted by `ringtest run` and `ringtest listen`) and
`ringtest privacy retain` call it. It is idempotent: run twice at the same
`now`, the second run changes nothing. In order:

1. call rows (and their callback obligations), and the unmatched inbound calls
   `ringtest lines` counts, older than `privacy.call_retention_months` calendar
   months are deleted;
2. caller numbers older than `privacy.pseudonymise_after_days` days (calls by
   start; obligations by when they closed, never while a callback is owed) become
   keyed pseudonyms (`ringtest.services.pseudonyms`);
3. evidence WAVs of ring tests older than `privacy.evidence_retention_days` are
   deleted and the tests' `evidence_path` cleared, and so are WAVs left in the
   data directory's `evidence/` that old (by modification time);
4. AMI recordings and journals matching `privacy.recording_globs` not modified
   for `privacy.recording_retention_days` are deleted.

What it removed is logged as counts, never as numbers.
"""

from __future__ import annotations

import calendar
import glob
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringtest.config import Settings
from ringtest.core.private_files import data_directory
from ringtest.services.host import wait_for
from ringtest.services.pseudonyms import key_for_pseudonyms, pseudonym
from ringtest.store import Store
from ringtest.store import privacy as stored

logger = logging.getLogger(__name__)

EVIDENCE_GLOB = "evidence/*.wav"
"""Where ring tests put their evidence by default, under the data directory."""


@dataclass(frozen=True)
class RetentionSummary:
    """How many of each thing one retention run pseudonymised or deleted."""

    calls_pseudonymised: int
    obligations_pseudonymised: int
    calls_deleted: int
    obligations_deleted: int
    evidence_deleted: int
    recordings_deleted: int
    unmatched_calls_deleted: int

    def describe(self) -> str:
        """One line of counts, for the log and the CLI."""
        return (
            f"pseudonymised the callers of {self.calls_pseudonymised} calls and "
            f"{self.obligations_pseudonymised} callback obligations; deleted "
            f"{self.calls_deleted} calls, {self.obligations_deleted} callback obligations, "
            f"{self.unmatched_calls_deleted} unmatched inbound calls, "
            f"{self.evidence_deleted} evidence recordings and {self.recordings_deleted} "
            "AMI recordings or journals"
        )


def apply_retention(settings: Settings, store: Store, now: datetime) -> RetentionSummary:
    """Apply `settings.privacy` to `store` and the files as of `now` (aware UTC)."""
    policy = settings.privacy
    deleted = stored.delete_calls_before(store, months_before(now, policy.call_retention_months))
    pseudonymise_before = now - timedelta(days=policy.pseudonymise_after_days)
    due = stored.callers_due_for_pseudonyms(store, pseudonymise_before)
    calls_pseudonymised = obligations_pseudonymised = 0
    if due:
        key = key_for_pseudonyms(policy.key_path())
        pseudonyms = {caller: pseudonym(key, caller) for caller in due}
        calls_pseudonymised, obligations_pseudonymised = stored.pseudonymise_callers(
            store, pseudonyms, pseudonymise_before
        )
    evidence_before = now - timedelta(days=policy.evidence_retention_days)
    evidence_deleted = _delete_stored_evidence(store, evidence_before) + _delete_files(
        _matching([str(data_directory() / EVIDENCE_GLOB)]), evidence_before
    )
    recordings_deleted = _delete_files(
        _matching(policy.recording_patterns()),
        now - timedelta(days=policy.recording_retention_days),
    )
    summary = RetentionSummary(
        calls_pseudonymised=calls_pseudonymised,
        obligations_pseudonymised=obligations_pseudonymised,
        calls_deleted=deleted.calls,
        obligations_deleted=deleted.obligations,
        evidence_deleted=evidence_deleted,
        recordings_deleted=recordings_deleted,
        unmatched_calls_deleted=deleted.unmatched_calls,
    )
    logger.info("retention: %s", summary.describe())
    return summary


def months_before(now: datetime, months: int) -> datetime:
    """The same instant `months` calendar months before `now` (the 31st becomes the last
    day of a shorter month)."""
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def _delete_stored_evidence(store: Store, before: datetime) -> int:
    """Delete the WAVs of ring tests placed before `before`, then forget their paths."""
    paths = stored.evidence_before(store, before)
    deleted = sum(_delete(Path(path)) for path in paths.values())
    stored.forget_evidence(store, list(paths))
    return deleted


def _matching(patterns: Iterable[str]) -> set[Path]:
    """The regular files matching any of `patterns` (recursive ``**`` allowed)."""
    return {
        Path(name)
        for pattern in patterns
        for name in glob.glob(pattern, recursive=True)
        if Path(name).is_file()
    }


def _delete_files(paths: Iterable[Path], modified_before: datetime) -> int:
    """Delete those of `paths` last modified before `modified_before`; how many were."""
    cutoff = modified_before.timestamp()
    return sum(_delete(path) for path in paths if path.stat().st_mtime < cutoff)


def _delete(path: Path) -> bool:
    """Delete the file at `path`; False when it was already gone."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


RETENTION_EVERY_SECONDS = 24 * 60 * 60.0
"""seconds between the daemon's retention runs (the first runs at start)."""


class RetentionService:
    """The daemon's daily retention job: `apply_retention` at start, then once a day.

    A run that fails (the database locked, a file that cannot be removed) is logged
    in one line and tried again at the next run; it never stops the daemon.
    clock: the current UTC instant (tests pass their own).
    """

    name = "retention"

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        every_seconds: float = RETENTION_EVERY_SECONDS,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.every_seconds = every_seconds
        self.runs = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                apply_retention(self.settings, self.store, self.clock())
            except Exception as error:
                logger.error(
                    "retention did not run: %s: %s (next try in %g s)",
                    type(error).__name__,
                    error,
                    self.every_seconds,
                )
            self.runs += 1
            if wait_for(stop, self.every_seconds):
                return
