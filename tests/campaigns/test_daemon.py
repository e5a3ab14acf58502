"""The daemon's bookkeeping on a real SQLite database and a real APScheduler, no SIP:
sync is idempotent, an edited file replans without duplicates, jobs survive a
restart, and misfires, pauses and interrupted calls are recorded honestly.

Time is injected: `now` is passed to `sync_campaigns` and the runner's clock is a
fixed instant, except in the one test where the real scheduler fires past jobs.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ringtest.campaigns.daemon import (
    HORIZON,
    CampaignDaemon,
    job_id,
    make_scheduler,
    sync_campaigns,
)
from ringtest.campaigns.plan import plan_between
from ringtest.campaigns.runs import SlotRunner, misfire_reason, ring_test_id, settle_interrupted
from ringtest.campaigns.source import load_campaign, load_campaigns
from ringtest.core.errors import SipError
from ringtest.core.records import (
    AnsweredBy,
    Campaign,
    RingTestOutcome,
    RingTestResult,
    RunSlot,
    RunStatus,
)
from tests.campaigns.conftest import BASE_CAMPAIGN

MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WAIT_SECONDS = 20.0


def never_place(settings, store, request):
    raise AssertionError(f"no ring test should be placed, but {request.test_id} was")


@pytest.fixture
def scheduler(store):
    started = make_scheduler(store)
    started.start(paused=True)
    yield started
    if started.running:
        started.shutdown(wait=False)


def save(store, definition, *, paused=False) -> None:
    store.save_campaign(
        Campaign(
            name=definition.campaign.name,
            source_path=definition.source_path,
            source_sha256=definition.sha256,
            paused=paused,
            created_at=MONDAY_8AM,
            updated_at=MONDAY_8AM,
            definition=definition.to_json(),
        )
    )


def test_a_sync_stores_the_horizons_plan_and_one_job_per_slot(store, scheduler, campaign_of):
    definition = campaign_of()
    expected = plan_between(
        definition, definition.working_calendar(), MONDAY_8AM, MONDAY_8AM + HORIZON
    )

    report = sync_campaigns(store, scheduler, [definition], MONDAY_8AM)

    slots = store.runs(campaign="spring")
    assert [(slot.target, slot.planned_at, slot.callback) for slot in slots] == [
        (call.target, call.planned_at, call.callback) for call in expected
    ]
    assert len(slots) == 2 * 3 * 2
    assert {job.id for job in scheduler.get_jobs()} == {job_id(slot) for slot in slots}
    assert (report.slots_added, report.jobs_added, report.jobs_scheduled) == (12, 12, 12)


def test_syncing_again_changes_nothing(store, scheduler, campaign_of):
    definition = campaign_of()
    sync_campaigns(store, scheduler, [definition], MONDAY_8AM)
    before = store.runs()

    report = sync_campaigns(store, scheduler, [definition], MONDAY_8AM + timedelta(minutes=5))

    assert store.runs() == before
    assert (report.slots_added, report.slots_dropped, report.jobs_added) == (0, 0, 0)
    assert len(scheduler.get_jobs()) == len(before)


def test_jobs_survive_a_restart_in_the_database(store, campaign_of):
    definition = campaign_of()
    first = make_scheduler(store)
    first.start(paused=True)
    sync_campaigns(store, first, [definition], MONDAY_8AM)
    first.shutdown(wait=False)

    second = make_scheduler(store)
    second.start(paused=True)
    try:
        restored = {job.id for job in second.get_jobs()}
        report = sync_campaigns(store, second, [definition], MONDAY_8AM)
    finally:
        second.shutdown(wait=False)

    assert restored == {job_id(slot) for slot in store.runs()}
    assert (report.jobs_added, report.jobs_removed) == (0, 0)


def test_an_edited_file_replans_future_slots_without_duplicates_and_keeps_the_past(
    store, scheduler, campaign_of
):
    sync_campaigns(store, scheduler, [campaign_of()], MONDAY_8AM)
    first = store.runs()[0]
    store.set_run_status(
        "spring", first.target, first.planned_at, RunStatus.DONE, test_id="rt-kept"
    )
    edited = campaign_of(replace={"frequency": "frequency: 1 per week"})
    now = first.planned_at + timedelta(minutes=1)

    report = sync_campaigns(store, scheduler, [edited], now)

    expected = plan_between(edited, edited.working_calendar(), now, now + HORIZON)
    planned = store.runs(status=RunStatus.PLANNED)
    assert [(slot.target, slot.planned_at) for slot in planned] == [
        (call.target, call.planned_at) for call in expected
    ]
    assert store.runs(status=RunStatus.DONE)[0].test_id == "rt-kept"
    assert {job.id for job in scheduler.get_jobs()} == {job_id(slot) for slot in planned}
    assert report.slots_dropped > 0


def test_a_slot_within_its_grace_may_still_run_and_one_past_it_may_not():
    due = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    assert misfire_reason(due, due + timedelta(seconds=600), 600, "Europe/London") is None
    assert misfire_reason(due, due + timedelta(minutes=42), 600, "Europe/London") == (
        "missed: due 2026-11-23 10:00:00 but the daemon reached it at 10:42:00 (42 min late; "
        "it was not running or busy), past the 10 min misfire grace"
    )


def planned_slot(store, definition, planned_at=MONDAY_8AM + timedelta(hours=2)) -> RunSlot:
    save(store, definition)
    slot = RunSlot(definition.campaign.name, "Council Tax", planned_at)
    store.plan_runs([slot])
    return slot


def test_a_slot_found_past_its_grace_is_recorded_not_placed_with_the_reason(
    store, lab_settings, campaign_of
):
    slot = planned_slot(store, campaign_of())
    found_at = slot.planned_at + timedelta(hours=3)
    runner = SlotRunner(lab_settings, store, clock=lambda: found_at, place=never_place)

    status = runner.run(slot.campaign, slot.target, slot.planned_at)

    [stored] = store.runs()
    assert status == stored.status == RunStatus.NOT_PLACED
    assert stored.reason == misfire_reason(slot.planned_at, found_at, 600, "Europe/London")
    assert store.ring_tests() == []


def test_a_slot_of_a_paused_campaign_is_recorded_not_placed(store, lab_settings, campaign_of):
    slot = planned_slot(store, campaign_of())
    store.set_campaign_paused("spring", True, at=MONDAY_8AM)
    runner = SlotRunner(lab_settings, store, clock=lambda: slot.planned_at, place=never_place)

    runner.run(slot.campaign, slot.target, slot.planned_at)

    [stored] = store.runs()
    assert (stored.status, stored.reason) == (
        RunStatus.NOT_PLACED,
        "campaign 'spring' was paused at its time",
    )


def test_a_slot_that_already_ran_is_never_placed_again(store, lab_settings, campaign_of):
    slot = planned_slot(store, campaign_of())
    store.set_run_status("spring", slot.target, slot.planned_at, RunStatus.DONE, test_id="rt-1")
    runner = SlotRunner(lab_settings, store, clock=lambda: slot.planned_at, place=never_place)

    assert runner.run(slot.campaign, slot.target, slot.planned_at) == RunStatus.DONE
    assert store.runs()[0].test_id == "rt-1"


def test_a_test_the_caller_cannot_start_is_recorded_failed_with_its_error(
    store, lab_settings, campaign_of
):
    slot = planned_slot(store, campaign_of())

    def registrar_down(settings, store, request):
        raise SipError("registration of 'ringtester' at sip:127.0.0.1:5060 timed out")

    runner = SlotRunner(lab_settings, store, clock=lambda: slot.planned_at, place=registrar_down)

    assert runner.run(slot.campaign, slot.target, slot.planned_at) == RunStatus.FAILED
    [stored] = store.runs()
    assert stored.reason == "registration of 'ringtester' at sip:127.0.0.1:5060 timed out"
    assert stored.test_id == ring_test_id("spring", "Council Tax", slot.planned_at)
    assert stored.started_at == slot.planned_at


def test_a_menu_targets_keys_go_with_its_ring_test_and_are_stored(
    store, lab_settings, write_campaign
):
    menu = BASE_CAMPAIGN.replace(
        '    number: "+441382434001"\n', '    number: "+441382434000"\n    ivr: w2 1\n'
    )
    definition = load_campaign(write_campaign(menu, "menu.yaml"), lab_settings)
    slot = planned_slot(store, definition)
    requested = []

    def place(settings, store, request):
        requested.append(request)
        result = replace(result_for(slot), ivr_keys=request.ivr_keys, rings_after_ivr=2)
        store.save_ring_test(result)
        return result

    runner = SlotRunner(lab_settings, store, clock=lambda: slot.planned_at, place=place)

    assert runner.run(slot.campaign, slot.target, slot.planned_at) == RunStatus.DONE
    assert [request.ivr_keys for request in requested] == ["w2 1"]
    [stored] = store.ring_tests()
    assert (stored.ivr_keys, stored.rings_after_ivr) == ("w2 1", 2)


def result_for(slot: RunSlot) -> RingTestResult:
    return RingTestResult(
        test_id=ring_test_id(slot.campaign, slot.target, slot.planned_at),
        target="+441382434001",
        account="ringtester",
        department="Council Tax",
        placed_at=slot.planned_at,
        outcome=RingTestOutcome.ANSWERED,
        answered_by=AnsweredBy.UNSURE,
        pdd_seconds=0.1,
        ring_seconds=2.0,
        tta_seconds=2.1,
        rings=1,
        within_standard=True,
        sip_code=200,
        reason="OK",
        campaign=slot.campaign,
    )


def test_slots_left_in_progress_by_a_dead_daemon_are_settled_from_what_was_stored(
    store, campaign_of
):
    save(store, campaign_of())
    with_result = RunSlot("spring", "Council Tax", MONDAY_8AM + timedelta(hours=1))
    without = RunSlot("spring", "Housing", MONDAY_8AM + timedelta(hours=2))
    store.plan_runs([with_result, without])
    for slot in (with_result, without):
        test_id = ring_test_id(slot.campaign, slot.target, slot.planned_at)
        assert store.claim_run(
            slot.campaign, slot.target, slot.planned_at, test_id=test_id, at=slot.planned_at
        )
    store.save_ring_test(result_for(with_result))

    assert settle_interrupted(store, "spring") == 2

    statuses = {slot.target: (slot.status, slot.reason) for slot in store.runs()}
    assert statuses == {
        "Council Tax": (RunStatus.DONE, ""),
        "Housing": (
            RunStatus.FAILED,
            "interrupted: the daemon stopped during the call and no result was stored",
        ),
    }


def test_a_slot_is_claimed_once_however_many_runners_race_for_it(store, campaign_of):
    slot = planned_slot(store, campaign_of())

    claims = [
        store.claim_run(slot.campaign, slot.target, slot.planned_at, test_id="rt", at=MONDAY_8AM)
        for _ in range(3)
    ]

    assert claims == [True, False, False]


def test_the_scheduler_fires_slots_missed_while_it_was_down_and_they_are_recorded_not_placed(
    store, lab_settings, campaign_of
):
    definition = campaign_of(replace={"start": "start: 2030-01-07"})
    save(store, definition)
    now = datetime.now(UTC).replace(microsecond=0)
    missed = [
        RunSlot("spring", "Council Tax", now - timedelta(hours=2)),
        RunSlot("spring", "Housing", now - timedelta(minutes=30)),
    ]
    store.plan_runs(missed)
    daemon = CampaignDaemon(
        lab_settings, store, [definition], runner=SlotRunner(lab_settings, store, place=never_place)
    )

    report = daemon.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while store.runs(status=RunStatus.PLANNED) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        daemon.stop()

    assert report.jobs_scheduled == 2
    runs = store.runs()
    assert [slot.status for slot in runs] == [RunStatus.NOT_PLACED] * 2
    assert all(slot.reason.startswith("missed: due ") for slot in runs)
    assert "(2 h 0 min late;" in runs[0].reason
    assert store.ring_tests() == []


@pytest.fixture
def reloading_daemon(store, lab_settings, write_campaign):
    """A started daemon on BASE_CAMPAIGN (from 2030), re-reading its file when asked;
    yields (daemon, the file's path) and stops the daemon after."""
    path = write_campaign(BASE_CAMPAIGN.replace("start: 2026-11-02", "start: 2030-01-07"))
    daemon = CampaignDaemon(
        lab_settings,
        store,
        [load_campaign(path, lab_settings)],
        clock=lambda: JANUARY_2030,
        runner=SlotRunner(lab_settings, store, place=never_place),
        reload=lambda: load_campaigns([path], lab_settings),
    )
    daemon.start()
    yield daemon, path
    daemon.stop()


def test_a_running_daemon_picks_up_an_edited_campaign_file(store, reloading_daemon):
    daemon, path = reloading_daemon
    assert daemon.check_files() is None, "nothing changed yet"
    touch(path, path.read_text() + '  - name: Planning\n    number: "+441382434004"\n')

    report = daemon.check_files()

    planned = store.runs(status=RunStatus.PLANNED)
    assert report is not None and report.slots_added > 0
    assert {slot.target for slot in planned} == {"Council Tax", "Housing", "Planning"}
    jobs = {job.id for job in daemon.scheduler.get_jobs(jobstore="default")}
    assert jobs == {job_id(slot) for slot in planned}


def test_an_edit_that_does_not_validate_is_logged_and_the_last_good_version_keeps_running(
    store, reloading_daemon, caplog
):
    daemon, path = reloading_daemon
    planned = store.runs(status=RunStatus.PLANNED)
    touch(path, path.read_text().replace("frequency: 3 per week", "frequency: often"))

    report = daemon.check_files()

    assert report is None
    assert store.runs(status=RunStatus.PLANNED) == planned
    jobs = {job.id for job in daemon.scheduler.get_jobs(jobstore="default")}
    assert jobs == {job_id(slot) for slot in planned}
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors[0].startswith(f"campaign file not reloaded: {path}:")
    assert "frequency" in errors[0]
    assert errors[-1] == "still running the campaigns as last read: fix the file and save it"


JANUARY_2030 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def touch(path, text: str) -> None:
    """Rewrite `path` with a modification time surely later than before."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_a_bank_holiday_week_a_campaign_cannot_fill_is_planned_short_logged_once_others_run_on(
    store, lab_settings, write_campaign, caplog
):
    dense = write_campaign(
        BASE_CAMPAIGN.replace("frequency: 3 per week", "frequency: 36 per week"), "dense.yaml"
    )
    other = write_campaign(BASE_CAMPAIGN.replace("name: spring", "name: autumn"), "other.yaml")
    definitions = load_campaigns([dense, other], lab_settings)
    week_before_st_andrews_day_2027 = datetime(2027, 11, 22, 8, 0, tzinfo=UTC)
    daemon = CampaignDaemon(
        lab_settings,
        store,
        definitions,
        clock=lambda: week_before_st_andrews_day_2027,
        runner=SlotRunner(lab_settings, store, place=never_place),
    )

    daemon.start()
    try:
        daemon.resync()
    finally:
        daemon.stop()

    week_start, week_end = datetime(2027, 11, 29, tzinfo=UTC), datetime(2027, 12, 4, tzinfo=UTC)
    in_the_week = [
        slot for slot in store.runs(campaign="spring") if week_start <= slot.planned_at < week_end
    ]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert 0 < len(in_the_week) < 72
    assert warnings == [
        "campaign 'spring', week 2027-W48: Saint Andrew's Day (Tue 30 Nov) closed, so "
        f"{len(in_the_week)} of 72 tests fit; {72 - len(in_the_week)} not planned"
    ]
    assert len(store.runs(campaign="autumn")) == 2 * 3 * 2
