"""The daemon's periodic history import: the PBX's CEL (else CDR) every few minutes.

With `[history] import_every_minutes` set, `ringtest run` and `ringtest campaign run`
host `HistoryImportService`: it runs `import_history(..., since=SINCE_LAST)` on
`HistorySettings.periodic_source` at start and then every that many minutes, so each
run reads only what the PBX wrote since the last (with the overlap of
`ringtest.sources.history_import`). A council that will not open AMI to ringtest still
gets its figures from the PBX's own database, minutes late.

A run that fails (the database down, a refused login, the store locked) is logged in
one line, the source named without its password, and tried again at the next run; it
never stops the daemon.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ringtest.config import Settings
from ringtest.core.errors import RingtestError
from ringtest.services.host import wait_for
from ringtest.sources.history_import import SINCE_LAST, HistorySource, import_history
from ringtest.store import Store

logger = logging.getLogger(__name__)

SECONDS_PER_MINUTE = 60.0


class HistoryImportService:
    """Imports `source` into `store` every `every_seconds`, from where the last import
    stopped. runs: how many runs were tried; clock: the current UTC instant (tests pass
    their own). One per PBX (`settings`: a `Settings.pbx_views` view)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        source: HistorySource,
        every_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = f"history import {settings.ami.pbx}"
        self.settings = settings
        self.store = store
        self.source = source
        self.every_seconds = every_seconds
        self.clock = clock
        self.runs = 0

    @classmethod
    def configured(cls, settings: Settings, store: Store) -> HistoryImportService | None:
        """The service `[history]` asks for; None when it asks for none."""
        chosen = settings.history.periodic_source()
        minutes = settings.history.import_every_minutes
        if chosen is None or minutes is None:
            return None
        return cls(settings, store, HistorySource(*chosen), minutes * SECONDS_PER_MINUTE)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.import_once()
            self.runs += 1
            if wait_for(stop, self.every_seconds):
                return

    def import_once(self) -> None:
        """One import from where the last stopped; a failure is logged, never raised."""
        try:
            result = import_history(
                self.source,
                self.settings,
                self.store,
                since=SINCE_LAST,
                times_are_local=self.settings.history.times_are_local,
                now=self.clock,
            )
        except (RingtestError, OSError) as error:
            logger.error(
                "history import from %s did not run: %s (next try in %g s)",
                self.source.shown,
                error,
                self.every_seconds,
            )
            return
        logger.info(
            "history import from %s: %d rows read, %d calls imported, %d already stored",
            self.source.shown,
            result.rows_read,
            result.imported,
            result.already_stored,
        )
