"""Campaigns against the real lab PBX, with compressed plans so no test sleeps through minutes.

How the clock is driven: the scheduler fires on the real clock, so each test
stores its campaign's slots a few seconds ahead of now (a compressed plan) and
waits, polling the database with a deadline, for them to settle. The campaigns
start in 2030, so the daemon's own plan adds nothing in the next two weeks and
the compressed slots are the whole schedule.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ringtest.campaigns.daemon import CampaignDaemon
from ringtest.campaigns.model import CampaignDefinition
from ringtest.campaigns.plan import parse_week, plan_week
from ringtest.campaigns.source import load_campaign
from ringtest.core.records import CallOutcome, Campaign, RingTestOutcome, RunSlot, RunStatus
from ringtest.core.stream import CallEnded, Change, RecordStream, RingTestFinished
from ringtest.lab.calls import lab_call
from ringtest.services.assembly import DaemonPlan, build_host
from ringtest.sources.ring_tests import sip_account
from ringtest.store import Store
from tests.campaigns.conftest import LAB_CONFIG, REPO

pytestmark = pytest.mark.lab

LAB_CAMPAIGN = """\
name: lab-short
account: ringtester
start: 2030-01-07
frequency: 2 per week
max_rings: 2
concurrency: 2
misfire_grace: 3s
targets:
  - name: Council Tax
    number: "+441382434001"
  - name: Housing
    number: "+441382434002"
  - name: Licensing
    number: "+441382434005"
  - name: Planning never answered
    number: "+441382434004"
    headers:
      X-Lab-Answer: never
"""
SETTLED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.NOT_PLACED)
LIVE_CALLER = "+441382000155"
"""A citizen calling a monitored line while the one-process daemon runs."""


def save_definition(store: Store, definition: CampaignDefinition, now: datetime) -> None:
    store.save_campaign(
        Campaign(
            name=definition.campaign.name,
            source_path=definition.source_path,
            source_sha256=definition.sha256,
            paused=False,
            created_at=now,
            updated_at=now,
            definition=definition.to_json(),
        )
    )


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.02)


def statuses(store: Store) -> dict[str, RunStatus]:
    return {f"{slot.target}@{slot.planned_at:%H:%M:%S}": slot.status for slot in store.runs()}


@pytest.fixture
def lab_campaign(lab, write_campaign, lab_settings) -> CampaignDefinition:
    """LAB_CAMPAIGN with four lines: answered lab calls last many seconds (the caller
    listens to who answered), so the compressed slots overlap."""
    text = LAB_CAMPAIGN.replace("concurrency: 2", "concurrency: 4")
    return load_campaign(write_campaign(text, "lab-short.yaml"), lab_settings)


def test_every_planned_test_of_a_compressed_week_is_placed_once_and_stored(
    lab, sip_endpoint, lab_settings, lab_campaign, store
):
    if not sip_endpoint.has_account("ringtester"):
        sip_endpoint.add_account(sip_account(lab_settings.sip_account("ringtester")))
    week = [
        call
        for call in plan_week(lab_campaign, lab_campaign.working_calendar(), parse_week("2030-W02"))
        if call.target != "Planning never answered"
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    slots = [
        RunSlot(
            "lab-short", call.target, now + timedelta(seconds=3 + 2 * index), callback=call.callback
        )
        for index, call in enumerate(week)
    ]
    save_definition(store, lab_campaign, now)
    store.plan_runs(slots)
    daemon = CampaignDaemon(lab_settings, store, [lab_campaign])

    report = daemon.start()
    try:
        wait_for(
            lambda: all(slot.status in SETTLED for slot in store.runs()), 90, "every slot to settle"
        )
    finally:
        daemon.stop()

    assert report.jobs_scheduled == len(slots) == 6
    runs = store.runs()
    assert [slot.status for slot in runs] == [RunStatus.DONE] * 6, [s.reason for s in runs]
    results = {result.test_id: result for result in store.ring_tests(campaign="lab-short")}
    assert sorted(results) == sorted(slot.test_id for slot in runs)
    for slot in runs:
        result = results[slot.test_id]
        expected = RingTestOutcome.BUSY if slot.target == "Licensing" else RingTestOutcome.ANSWERED
        assert result.outcome == expected, slot
        assert result.callback_requested == slot.callback
        assert timedelta(0) <= slot.started_at - slot.planned_at < timedelta(seconds=3)


def start_daemon(campaign_file: Path, db: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RINGTEST_DB": f"sqlite:///{db}"}
    env.pop("RINGTEST_CONFIG", None)
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ringtest",
                "-v",
                "--config",
                str(LAB_CONFIG),
                "campaign",
                "run",
                str(campaign_file),
            ],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def hand_placed(now: datetime, plan: Sequence[tuple[str, int]]) -> list[RunSlot]:
    return [
        RunSlot("lab-short", target, now + timedelta(seconds=offset)) for target, offset in plan
    ]


def test_a_daemon_killed_mid_call_and_restarted_places_nothing_twice_and_records_missed_slots(
    lab, lab_settings, write_campaign, tmp_path
):
    campaign_file = write_campaign(LAB_CAMPAIGN, "lab-short.yaml")
    definition = load_campaign(campaign_file, lab_settings)
    db, log = tmp_path / "daemon.db", tmp_path / "daemon.log"
    now = datetime.now(UTC).replace(microsecond=0)
    before_kill = hand_placed(now, [("Licensing", 12), ("Planning never answered", 16)])
    while_down = hand_placed(now, [("Housing", 22), ("Licensing", 23)])
    after_restart = hand_placed(now, [("Council Tax", 38), ("Licensing", 40)])
    with Store.open(f"sqlite:///{db}") as store:
        save_definition(store, definition, now)
        store.plan_runs(before_kill + while_down + after_restart)

        def status_of(slot: RunSlot) -> RunStatus:
            return next(run.status for run in store.runs() if run.planned_at == slot.planned_at)

        first = start_daemon(campaign_file, db, log)
        try:
            wait_for(
                lambda: (
                    status_of(before_kill[0]) == RunStatus.DONE
                    and status_of(before_kill[1]) == RunStatus.PLACED
                ),
                40,
                "the first test done and the second in progress",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL

        restart_at = while_down[-1].planned_at + timedelta(seconds=4)
        wait_for(lambda: datetime.now(UTC) > restart_at, 30, "the missed slots' grace to pass")
        second = start_daemon(campaign_file, db, log)
        try:
            wait_for(
                lambda: all(slot.status in SETTLED for slot in store.runs()),
                90,
                f"every slot to settle ({log.read_text(errors='replace')[-2000:]})",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
        assert second.returncode == 0, log.read_text(errors="replace")[-2000:]

        runs = store.runs()
        results = store.ring_tests(campaign="lab-short")

    assert len(runs) == 6
    by_time = {run.planned_at: run for run in runs}
    assert by_time[before_kill[0].planned_at].status == RunStatus.DONE
    interrupted = by_time[before_kill[1].planned_at]
    assert (interrupted.status, interrupted.reason) == (
        RunStatus.FAILED,
        "interrupted: the daemon stopped during the call and no result was stored",
    )
    for slot in while_down:
        missed = by_time[slot.planned_at]
        assert missed.status == RunStatus.NOT_PLACED
        assert missed.reason.startswith("missed: due "), missed.reason
    assert [by_time[slot.planned_at].status for slot in after_restart] == [RunStatus.DONE] * 2
    done_ids = sorted(run.test_id for run in runs if run.status == RunStatus.DONE)
    assert sorted(result.test_id for result in results) == done_ids
    assert len(done_ids) == 3


def test_one_stream_carries_a_live_call_and_a_ring_test_in_one_process(
    lab, lab_settings, lab_campaign, store
):
    now = datetime.now(UTC).replace(microsecond=0)
    save_definition(store, lab_campaign, now)
    [slot] = hand_placed(now, [("Council Tax", 4)])
    store.plan_runs([slot])
    stream = RecordStream()
    seen: list[Change] = []
    stream.subscribe("test", seen.extend)
    plan = DaemonPlan(listen=True, campaigns=[lab_campaign])
    host = build_host(lab_settings, store, plan, stream)

    host.start()
    try:
        wait_for(
            lambda: any(isinstance(change, RingTestFinished) for change in seen),
            40,
            "the campaign's ring test on the stream",
        )
        lab_call("2001", answer="500", caller=LIVE_CALLER)
        wait_for(
            lambda: any(
                isinstance(change, CallEnded) and change.record.caller == LIVE_CALLER
                for change in seen
            ),
            20,
            "the live call on the stream",
        )
    finally:
        assert host.stop() == []

    assert host.failures == {}
    [finished] = [change.result for change in seen if isinstance(change, RingTestFinished)]
    [ended] = [
        change.record
        for change in seen
        if isinstance(change, CallEnded) and change.record.caller == LIVE_CALLER
    ]
    assert (finished.campaign, finished.outcome) == ("lab-short", RingTestOutcome.ANSWERED)
    assert ended.outcome is CallOutcome.ANSWERED
    assert [run.test_id for run in store.runs()] == [finished.test_id]
    assert [result.test_id for result in store.ring_tests()] == [finished.test_id]
    assert [call.call_id for call in store.calls() if call.caller == LIVE_CALLER] == [ended.call_id]
