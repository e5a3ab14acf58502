"""Running one planned slot of a campaign, and recording honestly what became of it.

The scheduler's jobs call `run_slot` by reference with three strings (campaign,
target, planned instant); everything else is in the database. `SlotRunner.run`
decides, with the instant it is given as `now`:

* the slot is no longer PLANNED: it already ran (or is running); do nothing, so
  no slot is ever placed twice, however often its job fires;
* the campaign is paused: record NOT_PLACED, "campaign paused";
* it is more than the campaign's ``misfire_grace`` late (the daemon was down
  or busy): record NOT_PLACED with when it was due and how late it was found;
* otherwise claim it (PLANNED -> PLACED, one atomic update, so of two racing
  runners one wins), wait for one of the campaign's ``concurrency`` lines, place
  the ring test with `run_ring_tests` (which stores its result) and record DONE
  with the test's id, or NOT_PLACED when the caller could not place it, or FAILED
  with the error when ringtest itself failed.

A slot left PLACED by a daemon that died mid-call is settled by `settle_interrupted`
at the next start: DONE if its result was stored, else FAILED ("interrupted").
A NOT_PLACED slot never becomes a ring-test result, so it is never counted as an
unanswered call.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ringtest.campaigns.model import CampaignDefinition
from ringtest.config import Settings
from ringtest.core.errors import RingtestError
from ringtest.core.records import RingTestOutcome, RingTestResult, RunSlot, RunStatus
from ringtest.core.stream import RecordStream
from ringtest.sources.ring_tests import RingTestRequest, run_ring_tests
from ringtest.store import Store

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PlaceTest = Callable[[Settings, Store, RingTestRequest], RingTestResult]

_SLUG = re.compile(r"[^a-z0-9]+")
_active_runner: SlotRunner | None = None


def utc_now() -> datetime:
    """The wall clock, as an aware UTC instant (the daemon's default clock)."""
    return datetime.now(UTC)


def place_with_sip(
    settings: Settings,
    store: Store,
    request: RingTestRequest,
    stream: RecordStream | None = None,
) -> RingTestResult:
    """Place one ring test on real SIP, store its result and publish it on `stream`."""
    [result] = run_ring_tests(settings, store, [request], stream=stream)
    return result


def ring_test_id(campaign: str, target: str, planned_at: datetime) -> str:
    """The ring test id of a slot: the same slot always gets the same id."""
    slug = _SLUG.sub("-", target.lower()).strip("-")
    return f"{campaign}/{slug}/{planned_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def misfire_reason(
    planned_at: datetime, now: datetime, grace_seconds: int, timezone: str
) -> str | None:
    """Why a slot due at `planned_at` may not run at `now`, or None when it still may."""
    late = now - planned_at
    if late <= timedelta(seconds=grace_seconds):
        return None
    zone = ZoneInfo(timezone)
    return (
        f"missed: due {planned_at.astimezone(zone):%Y-%m-%d %H:%M:%S} but the daemon reached "
        f"it at {now.astimezone(zone):%H:%M:%S} ({_duration(late)} late; it was not running "
        f"or busy), past the {_duration(timedelta(seconds=grace_seconds))} misfire grace"
    )


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class SlotRunner:
    """Runs slots for one daemon: settings, store, the clock and how to place a test.

    place: `place_with_sip` in the daemon; tests of the bookkeeping inject a fault.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock = utc_now,
        place: PlaceTest = place_with_sip,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.place = place
        self._lines: dict[str, threading.BoundedSemaphore] = {}
        self._lines_lock = threading.Lock()

    def run(self, campaign: str, target: str, planned_at: datetime) -> RunStatus | None:
        """Run or settle the slot (campaign, target, planned_at); returns its status,
        None when no such slot is stored."""
        slot = self._slot(campaign, target, planned_at)
        if slot is None:
            logger.warning(
                "campaign %s: no slot to %s at %s is stored; nothing to place",
                campaign,
                target,
                planned_at.isoformat(),
            )
            return None
        if slot.status != RunStatus.PLANNED:
            logger.info(
                "campaign %s: slot to %s at %s is already %s; not placing it again",
                campaign,
                target,
                planned_at.isoformat(),
                slot.status,
            )
            return slot.status
        stored = {row.name: row for row in self.store.campaigns()}[campaign]
        definition = CampaignDefinition.from_json(stored.definition)
        now = self.clock()
        reason = self._reason_to_skip(definition, stored.paused, slot, now)
        if reason is not None:
            self.store.skip_run(campaign, target, planned_at, reason)
            logger.warning(
                "campaign %s: %s at %s not placed: %s",
                campaign,
                target,
                planned_at.isoformat(),
                reason,
            )
            return RunStatus.NOT_PLACED
        line = self._line(definition)
        grace_left = definition.campaign.misfire_grace - (now - planned_at).total_seconds()
        if not line.acquire(timeout=max(grace_left, 0.0)):
            reason = (
                "no free line within the misfire grace "
                f"(concurrency {definition.campaign.concurrency})"
            )
            self.store.skip_run(campaign, target, planned_at, reason)
            return RunStatus.NOT_PLACED
        try:
            return self._place(definition, slot)
        finally:
            line.release()

    def _reason_to_skip(
        self, definition: CampaignDefinition, paused: bool, slot: RunSlot, now: datetime
    ) -> str | None:
        campaign = definition.campaign
        if paused:
            return f"campaign '{campaign.name}' was paused at its time"
        if slot.target not in {target.name for target in campaign.targets}:
            return f"target '{slot.target}' is no longer in the campaign file"
        return misfire_reason(slot.planned_at, now, campaign.misfire_grace, definition.timezone)

    def _place(self, definition: CampaignDefinition, slot: RunSlot) -> RunStatus:
        campaign = definition.campaign
        test_id = ring_test_id(slot.campaign, slot.target, slot.planned_at)
        if not self.store.claim_run(
            slot.campaign, slot.target, slot.planned_at, test_id=test_id, at=self.clock()
        ):
            return RunStatus.PLACED
        target = next(target for target in campaign.targets if target.name == slot.target)
        request = RingTestRequest(
            target=target.dial,
            department=target.department_name,
            account=definition.account,
            max_rings=campaign.max_rings,
            callback=slot.callback,
            campaign=campaign.name,
            test_id=test_id,
            extra_headers=target.headers,
            ivr_keys=target.ivr,
        )
        try:
            result = self.place(self.settings, self.store, request)
        except (RingtestError, OSError) as error:
            logger.error("campaign %s: ring test %s failed: %s", campaign.name, test_id, error)
            self._record(slot, RunStatus.FAILED, test_id, str(error))
            return RunStatus.FAILED
        except Exception as error:
            logger.exception("campaign %s: ring test %s failed", campaign.name, test_id)
            self._record(slot, RunStatus.FAILED, test_id, f"{type(error).__name__}: {error}")
            return RunStatus.FAILED
        status, reason = status_of(result)
        self._record(slot, status, test_id, reason)
        logger.info("campaign %s: %s -> %s (%s)", campaign.name, test_id, status, result.outcome)
        return status

    def _record(self, slot: RunSlot, status: RunStatus, test_id: str, reason: str) -> None:
        self.store.set_run_status(
            slot.campaign, slot.target, slot.planned_at, status, test_id=test_id, reason=reason
        )

    def _slot(self, campaign: str, target: str, planned_at: datetime) -> RunSlot | None:
        window = timedelta(microseconds=1)
        slots = self.store.runs(campaign=campaign, since=planned_at, until=planned_at + window)
        return next((slot for slot in slots if slot.target == target), None)

    def _line(self, definition: CampaignDefinition) -> threading.BoundedSemaphore:
        with self._lines_lock:
            name = definition.campaign.name
            if name not in self._lines:
                lines = definition.campaign.concurrency
                self._lines[name] = threading.BoundedSemaphore(lines)
            return self._lines[name]


def status_of(result: RingTestResult) -> tuple[RunStatus, str]:
    """A stored ring test's slot status: NOT_PLACED with its reason if it never rang, else DONE."""
    if result.outcome == RingTestOutcome.NOT_PLACED:
        return RunStatus.NOT_PLACED, result.reason
    return RunStatus.DONE, ""


def settle_interrupted(store: Store, campaign: str) -> int:
    """Settle the campaign's slots left PLACED by a daemon that stopped mid-call.

    DONE (or NOT_PLACED) when the ring test's result was stored, else FAILED:
    the call may have rung, so it is not placed again. Returns how many were settled.
    """
    placed = store.runs(campaign=campaign, status=RunStatus.PLACED)
    if not placed:
        return 0
    results = {result.test_id: result for result in store.ring_tests(campaign=campaign)}
    for slot in placed:
        result = results.get(slot.test_id or "")
        if result is not None:
            status, reason = status_of(result)
        else:
            status, reason = (
                RunStatus.FAILED,
                "interrupted: the daemon stopped during the call and no result was stored",
            )
        store.set_run_status(
            slot.campaign,
            slot.target,
            slot.planned_at,
            status,
            test_id=slot.test_id,
            reason=reason,
        )
    return len(placed)


def activate(runner: SlotRunner | None) -> None:
    """Make `runner` the one `run_slot` uses in this process (None: none)."""
    global _active_runner
    _active_runner = runner


def run_slot(campaign: str, target: str, planned_at: str) -> None:
    """The scheduler's job: run the slot with this process's active runner.

    planned_at: ISO 8601 UTC instant. Without an active runner the slot stays
    PLANNED and the next daemon start settles it.
    """
    runner = _active_runner
    if runner is None:
        logger.error("campaign %s: no active runner for %s at %s", campaign, target, planned_at)
        return
    runner.run(campaign, target, datetime.fromisoformat(planned_at))
