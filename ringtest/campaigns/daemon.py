"""The campaign daemon: APScheduler 3.x fires each planned slot at its instant.

The scheduler keeps its jobs in its SQLAlchemy job store, in ringtest's own
database (table `JOBS_TABLE`), so they survive restarts. A job holds only a
function reference (`JOB_FUNCTION`), three strings (campaign, target, planned
instant) and its id (`job_id`); the campaigns and their slots are ordinary rows.
APScheduler's own misfire check is off (``misfire_grace_time=None``): a job that
fires late still calls `run_slot`, which decides with the campaign's
``misfire_grace`` and records the outcome (see `ringtest.campaigns.runs`).

`sync_campaigns` makes the database and the jobs agree with the campaign files,
and is safe to repeat:

1. each campaign's definition is saved (a stored pause is kept);
2. its plan from now to `HORIZON` ahead is stored, slot by slot, insert-if-absent;
   when the definition changed, its PLANNED slots from now on that the new
   plan lacks are dropped (slots that already ran are kept);
3. slots left PLACED by a daemon that died mid-call are settled;
4. every PLANNED slot of the campaigns run, past or future, gets its job (by id,
   so never twice), and jobs of anything else are removed. A past slot's job
   fires at once and is run late or recorded NOT_PLACED.

A running daemon looks at its campaign files every `FILE_CHECK_SECONDS`: an
edited file is re-read and synced (its future plan replaced); an edit that does
not validate is logged, one line per problem, and the last good version keeps
running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from ringtest.campaigns.model import MAX_CONCURRENT_CALLS, CampaignDefinition
from ringtest.campaigns.plan import Shortfall, monday_of, plan_between, shortfall
from ringtest.campaigns.runs import (
    Clock,
    SlotRunner,
    activate,
    place_with_sip,
    settle_interrupted,
    utc_now,
)
from ringtest.campaigns.weekly_report import MEMORY_JOBSTORE, schedule_weekly_report
from ringtest.config import Settings
from ringtest.core.errors import CampaignError
from ringtest.core.records import Campaign, RunSlot, RunStatus
from ringtest.core.stream import RecordStream
from ringtest.sip.endpoint import endpoint_with
from ringtest.sources.ring_tests import sip_account
from ringtest.store import Store

logger = logging.getLogger(__name__)

JOB_FUNCTION = "ringtest.campaigns.runs:run_slot"
JOBS_TABLE = "campaign_jobs"
HORIZON = timedelta(days=14)
"""How far ahead slots are stored and scheduled; `RESYNC_SECONDS` keeps extending it."""
RESYNC_SECONDS = 3600.0
"""seconds between re-syncs of a running daemon (extends the horizon)."""
FILE_CHECK_SECONDS = 30.0
"""seconds between looks at the campaign files' modification times."""

Reload = Callable[[], list[CampaignDefinition]]
"""Reads the campaign files again; raises CampaignError when one does not validate."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one `sync_campaigns` changed: slots added and dropped, interrupted slots
    settled, jobs added and removed, and how many PLANNED slots have a job;
    `shortfalls`: the horizon's weeks planned with fewer tests than asked (closed days)."""

    slots_added: int
    slots_dropped: int
    interrupted: int
    jobs_added: int
    jobs_removed: int
    jobs_scheduled: int
    shortfalls: tuple[Shortfall, ...] = field(default=(), repr=False)


def job_id(slot: RunSlot) -> str:
    """The scheduler job id of a slot: one job per slot, however often it is synced."""
    return f"{slot.campaign}|{slot.target}|{slot.planned_at.astimezone(UTC).isoformat()}"


def make_scheduler(store: Store) -> BackgroundScheduler:
    """A scheduler whose jobs live in `store`'s database, running up to
    `MAX_CONCURRENT_CALLS` slots at once, with APScheduler's own misfire check off."""
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE),
            MEMORY_JOBSTORE: MemoryJobStore(),
        },
        executors={"default": ThreadPoolExecutor(MAX_CONCURRENT_CALLS)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )


def sync_campaigns(
    store: Store,
    scheduler: BackgroundScheduler,
    definitions: Sequence[CampaignDefinition],
    now: datetime,
) -> SyncReport:
    """Make the stored campaigns, their slots and the scheduler's jobs match `definitions`;
    weeks planned short by closed days are in the report's `shortfalls`."""
    stored = {campaign.name: campaign for campaign in store.campaigns()}
    added = dropped = interrupted = 0
    shortfalls: list[Shortfall] = []
    for definition in definitions:
        name = definition.campaign.name
        before = stored.get(name)
        changed = before is None or before.definition != definition.to_json()
        planned = plan_between(definition, definition.working_calendar(), now, now + HORIZON)
        store.save_campaign(_campaign_row(definition, before, now))
        slots = [
            RunSlot(name, call.target, call.planned_at, callback=call.callback) for call in planned
        ]
        new, old = store.replan_runs(name, slots, since=now, drop_others=changed)
        added, dropped = added + new, dropped + old
        interrupted += settle_interrupted(store, name)
        shortfalls.extend(_horizon_shortfalls(definition, now))
        if changed or new or old:
            logger.info("campaign %s: %d slots added, %d dropped", name, new, old)
    jobs_added, jobs_removed, scheduled = _sync_jobs(store, scheduler, definitions)
    return SyncReport(
        added, dropped, interrupted, jobs_added, jobs_removed, scheduled, tuple(shortfalls)
    )


def _horizon_shortfalls(definition: CampaignDefinition, now: datetime) -> list[Shortfall]:
    """The shortfalls of the weeks from `now` to `HORIZON` ahead."""
    calendar = definition.working_calendar()
    monday = monday_of(now, definition.timezone)
    last = monday_of(now + HORIZON, definition.timezone)
    found = []
    while monday <= last:
        if (week := shortfall(definition, calendar, monday)) is not None:
            found.append(week)
        monday += timedelta(days=7)
    return found


def _campaign_row(
    definition: CampaignDefinition, before: Campaign | None, now: datetime
) -> Campaign:
    return Campaign(
        name=definition.campaign.name,
        source_path=definition.source_path,
        source_sha256=definition.sha256,
        paused=before.paused if before is not None else False,
        created_at=before.created_at if before is not None else now,
        updated_at=now,
        definition=definition.to_json(),
    )


def _sync_jobs(
    store: Store, scheduler: BackgroundScheduler, definitions: Sequence[CampaignDefinition]
) -> tuple[int, int, int]:
    names = {definition.campaign.name for definition in definitions}
    wanted = {
        job_id(slot): slot
        for slot in store.runs(status=RunStatus.PLANNED)
        if slot.campaign in names
    }
    existing = {job.id for job in scheduler.get_jobs(jobstore="default")}
    for stale in existing - wanted.keys():
        scheduler.remove_job(stale, jobstore="default")
    for missing in wanted.keys() - existing:
        slot = wanted[missing]
        scheduler.add_job(
            JOB_FUNCTION,
            "date",
            run_date=slot.planned_at,
            args=[slot.campaign, slot.target, slot.planned_at.astimezone(UTC).isoformat()],
            id=missing,
            replace_existing=True,
        )
    return len(wanted.keys() - existing), len(existing - wanted.keys()), len(wanted)


class CampaignDaemon:
    """Runs `definitions` until stopped: `start`, then `run_until(stop)` or `stop`.

    clock: the runner's notion of now (misfire decisions); the scheduler fires on the
    wall clock. runner: how slots are run (default: real SIP via `SlotRunner`).
    reload: reads the campaign files again (see `check_files`); None: never re-read.
    stream: where the default runner publishes each ring test's result; None: nowhere.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        definitions: Sequence[CampaignDefinition],
        *,
        clock: Clock = utc_now,
        runner: SlotRunner | None = None,
        reload: Reload | None = None,
        stream: RecordStream | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.definitions = list(definitions)
        self.reload = reload
        self._file_times = self._modification_times()
        self.clock = clock
        self.runner = runner or SlotRunner(
            settings, store, clock=clock, place=partial(place_with_sip, stream=stream)
        )
        self.scheduler = make_scheduler(store)
        self._shortfalls_logged: set[Shortfall] = set()

    def start(self) -> SyncReport:
        """Sync the campaigns with the scheduler paused, then let it fire."""
        self.scheduler.start(paused=True)
        report = self.resync()
        schedule_weekly_report(self.scheduler, self.settings, self.store, self.clock)
        activate(self.runner)
        self.scheduler.resume()
        logger.info("campaign daemon started: %s", report)
        return report

    def resync(self) -> SyncReport:
        """Extend the plan to the horizon and reschedule the campaigns as they are; a week
        planned short is logged once, one warning line."""
        report = sync_campaigns(self.store, self.scheduler, self.definitions, self.clock())
        for week in report.shortfalls:
            if week not in self._shortfalls_logged:
                logger.warning("%s", week.describe())
                self._shortfalls_logged.add(week)
        return report

    def check_files(self) -> SyncReport | None:
        """Re-read the campaign files if one changed on disk and sync what they say now.

        Returns the sync's report, or None when nothing changed or an edit does not
        validate: then each problem is logged and the last good version keeps running.
        """
        times = self._modification_times()
        if self.reload is None or times == self._file_times:
            return None
        self._file_times = times
        try:
            definitions = self.reload()
        except CampaignError as error:
            for problem in error.problems:
                logger.error("campaign file not reloaded: %s", problem)
            logger.error("still running the campaigns as last read: fix the file and save it")
            return None
        self.definitions = definitions
        report = self.resync()
        logger.info("campaign files re-read: %s", report)
        return report

    def run_until(
        self,
        stop: threading.Event,
        resync_seconds: float = RESYNC_SECONDS,
        file_check_seconds: float = FILE_CHECK_SECONDS,
    ) -> None:
        """Until `stop` is set: re-read edited campaign files every `file_check_seconds`
        and resync every `resync_seconds` (monotonic); then stop."""
        last_resync = time.monotonic()
        try:
            while not stop.wait(min(file_check_seconds, resync_seconds)):
                if self.check_files() is not None:
                    last_resync = time.monotonic()
                elif time.monotonic() - last_resync >= resync_seconds:
                    self.resync()
                    last_resync = time.monotonic()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop firing, wait for calls in progress to end, and release the runner."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        activate(None)

    def _modification_times(self) -> dict[str, int | None]:
        """Each campaign file's modification time (ns), None for one that is gone."""
        times: dict[str, int | None] = {}
        for definition in self.definitions:
            try:
                times[definition.source_path] = Path(definition.source_path).stat().st_mtime_ns
            except OSError:
                times[definition.source_path] = None
        return times


@contextmanager
def sip_endpoint_for(
    settings: Settings, definitions: Sequence[CampaignDefinition]
) -> Iterator[None]:
    """This process's SIP endpoint, running with every account the campaigns call from,
    for as long as the daemon runs (`run_ring_tests` uses the running endpoint)."""
    names = sorted({definition.account for definition in definitions})
    with endpoint_with([sip_account(settings.sip_account(name)) for name in names]):
        yield
