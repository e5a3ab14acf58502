"""Coverage gaps filled from a written Master.csv: one pass (`fill_gap`), the completion of an
incomplete call (`completed`), and the daemon's service (`GapFillService`)."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.config.adapters import standards_of
from ringtest.core.records import (
    AnsweredBy,
    CallOutcome,
    CallRecord,
    CoverageGap,
    GapFill,
    GapReason,
)
from ringtest.core.stream import GapObserved, RecordStream
from ringtest.services.assembly import DaemonPlan, build_host
from ringtest.services.gap_fill import GapFillService
from ringtest.sources.cdr_gap_fill import completed, fill_gap
from ringtest.store import Store
from tests.conftest import wait_until
from tests.store.builders import call_record
from tests.test_cli import LAB_CONFIG

GAP = CoverageGap(
    "lab",
    datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 9, 1, 0, tzinfo=UTC),
    GapReason.LISTENER_DOWN,
)
CALLERS = ("+441382000301", "+441382000302", "+441382000303", "+441382000304")


def row(call_id: str, caller: str, start: datetime, answered_after: int | None, ended_after: int):
    """One cdr_csv row to extension 2001 (Council Tax), its uniqueid matching its UTC start."""
    answer = "" if answered_after is None else f"{start + timedelta(seconds=answered_after):%F %T}"
    disposition = "NO ANSWER" if answered_after is None else "ANSWERED"
    return (
        f'"","{caller}","2001","council-inbound","""Citizen"" <{caller}>",'
        f'"PJSIP/citizen-1","PJSIP/staff1-2","Dial","PJSIP/staff1,60","{start:%F %T}",'
        f'"{answer}","{start + timedelta(seconds=ended_after):%F %T}",{ended_after},0,'
        f'"{disposition}","DOCUMENTATION","{int(start.timestamp())}.{call_id}",""'
    )


BEFORE = row("1", CALLERS[0], GAP.started_at - timedelta(seconds=30), None, 40)
INSIDE_ANSWERED = row("2", CALLERS[1], GAP.started_at + timedelta(seconds=5), 6, 20)
INSIDE_ABANDONED = row("3", CALLERS[2], GAP.started_at + timedelta(seconds=20), None, 10)
AFTER = row("4", CALLERS[3], GAP.ended_at + timedelta(seconds=1), 3, 9)


def call_id_of(cdr_row: str) -> str:
    return cdr_row.rsplit(",", 2)[1].strip('"')


@pytest.fixture
def settings(tmp_path: Path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text("\n".join((BEFORE, INSIDE_ANSWERED, INSIDE_ABANDONED, AFTER)) + "\n")
    return load_settings(
        LAB_CONFIG,
        overrides={"store.url": f"sqlite:///{tmp_path / 'r.db'}", "history.cdr_file": str(cdr)},
        environ={},
    )


def incomplete_call(call_id: str, caller: str, started_at: datetime, **fields) -> CallRecord:
    incomplete = dict(
        call_id=call_id,
        pbx="lab",
        line="2001",
        department="Council Tax",
        caller=caller,
        dialled="2001",
        started_at=started_at,
        ring_started_at=None,
        answered_at=None,
        answered_by=AnsweredBy.NONE,
        ended_at=None,
        ring_seconds=None,
        rings=None,
        outcome=CallOutcome.INCOMPLETE,
        within_standard=False,
        is_test_call=False,
        ivr_seconds=None,
        gap_note="the AMI link was lost",
    )
    return call_record(**(incomplete | fields))


def test_a_pass_imports_the_calls_that_started_inside_the_gap_marked_with_the_gap(settings):
    with Store.open(settings.store_url()) as store:
        done = fill_gap(GAP, settings, store, settings.history.cdr_file)
        again = fill_gap(GAP, settings, store, settings.history.cdr_file)
        calls = {call.caller: call for call in store.calls()}

    assert (done.calls_found, done.calls_imported, done.calls_upgraded) == (2, 2, 0)
    assert (again.calls_found, again.calls_imported) == (2, 0)
    assert sorted(calls) == [CALLERS[1], CALLERS[2]]
    answered = calls[CALLERS[1]]
    assert (answered.outcome, answered.ring_seconds) == (CallOutcome.ANSWERED, 6.0)
    assert calls[CALLERS[2]].outcome is CallOutcome.ABANDONED
    assert answered.gap_note == (
        "imported from Asterisk CDR Master.csv, line 2, whole seconds, filling gap "
        "2026-11-23T09:00:00+00:00–2026-11-23T09:01:00+00:00"
    )


def test_a_call_written_in_the_whole_second_the_gap_opened_in_is_imported(settings):
    gap_opened_mid_second = replace(
        GAP, started_at=GAP.started_at.replace(second=5, microsecond=400_000)
    )
    with Store.open(settings.store_url()) as store:
        done = fill_gap(gap_opened_mid_second, settings, store, settings.history.cdr_file)
        callers = {call.caller for call in store.calls()}

    assert done.calls_found == 2
    assert callers == {CALLERS[1], CALLERS[2]}


def test_a_call_the_listener_stored_is_kept_as_stored(settings):
    seen = replace(
        incomplete_call(call_id_of(INSIDE_ANSWERED), CALLERS[1], GAP.started_at),
        outcome=CallOutcome.ANSWERED,
        answered_by=AnsweredBy.PERSON,
        ring_seconds=4.5,
        gap_note=None,
    )
    with Store.open(settings.store_url()) as store:
        store.save_calls([seen])
        done = fill_gap(GAP, settings, store, settings.history.cdr_file)
        calls = {call.caller: call for call in store.calls()}

    assert (done.calls_found, done.calls_imported) == (2, 1)
    assert calls[CALLERS[1]] == seen


def test_an_incomplete_call_the_gap_cut_is_completed_from_the_cdr(settings):
    cut = incomplete_call(
        call_id_of(BEFORE), CALLERS[0], GAP.started_at - timedelta(seconds=29), ring_seconds=20.0
    )
    with Store.open(settings.store_url()) as store:
        store.save_calls([cut])
        done = fill_gap(GAP, settings, store, settings.history.cdr_file)
        again = fill_gap(GAP, settings, store, settings.history.cdr_file)
        stored = next(call for call in store.calls() if call.caller == CALLERS[0])

    assert (done.calls_upgraded, again.calls_upgraded) == (1, 0)
    assert stored.outcome is CallOutcome.ABANDONED
    assert stored.ended_at == GAP.started_at + timedelta(seconds=10)
    assert stored.started_at == GAP.started_at - timedelta(seconds=30)
    assert stored.ring_seconds == 20.0  # the listener's measurement stays
    assert stored.gap_note == (
        "the AMI link was lost; completed from Asterisk CDR Master.csv, filling gap "
        "2026-11-23T09:00:00+00:00–2026-11-23T09:01:00+00:00"
    )


def test_completing_never_downgrades_what_the_listener_measured(settings):
    rule = standards_of(settings).ring_rule
    measured = incomplete_call(
        "7",
        CALLERS[0],
        GAP.started_at,
        answered_by=AnsweredBy.PERSON,
        answered_at=GAP.started_at + timedelta(seconds=9),
        ring_seconds=9.0,
        rings=3,
    )
    history = replace(
        measured,
        answered_by=AnsweredBy.VOICEMAIL,
        answered_at=GAP.started_at + timedelta(seconds=20),
        ring_seconds=20.0,
        outcome=CallOutcome.VOICEMAIL,
        ended_at=GAP.ended_at,
        gap_note="imported",
    )

    kept = completed(measured, history, rule, "the CDR")
    assert (kept.outcome, kept.answered_by, kept.ring_seconds, kept.rings) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        9.0,
        3,
    )
    assert (kept.ended_at, kept.within_standard) == (GAP.ended_at, True)

    unanswered = replace(measured, answered_by=AnsweredBy.NONE, answered_at=None, ring_seconds=None)
    told = completed(unanswered, history, rule, "the CDR")
    assert (told.outcome, told.answered_by, told.ring_seconds) == (
        CallOutcome.VOICEMAIL,
        AnsweredBy.VOICEMAIL,
        20.0,
    )


def run_service(service: GapFillService, until) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    try:
        wait_until(until, 10.0)
    finally:
        stop.set()
        thread.join(5.0)
    assert not thread.is_alive()


def test_the_service_fills_a_published_gap_once_and_logs_no_caller(settings, caplog):
    caplog.set_level(logging.INFO, logger="ringtest.services.gap_fill")
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        service = GapFillService(settings, store, stream, pass_delays_seconds=(0.0, 0.1, 0.2))
        stream.publish([GapObserved(GAP), GapObserved(replace(GAP, pbx="another"))])
        run_service(service, lambda: service.fills_done == 1)
        fills = store.gap_fills()
        calls = store.calls()

    assert [(f.pbx, f.gap_started_at, f.source, f.calls_imported) for f in fills] == [
        ("lab", GAP.started_at, "Master.csv", 2)
    ]
    assert len(calls) == 2
    assert service.pending == 0
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "filled gap 2026-11-23T09:00:00+00:00–2026-11-23T09:01:00+00:00 from CDR "
        f"{settings.history.cdr_file}: 2 calls (0 incomplete calls completed)"
    ]
    assert not any(caller in line for line in lines for caller in CALLERS)


def test_a_file_gone_at_fill_time_is_one_warning_and_the_gap_stays_unfilled(settings, caplog):
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        service = GapFillService(settings, store, stream, pass_delays_seconds=(0.0,))
        settings.history.cdr_file.rename(settings.history.cdr_file.with_suffix(".1"))
        service._run_pass(_pending(service, stream))
        fills = store.gap_fills()

    assert fills == []
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "could not fill gap 2026-11-23T09:00:00+00:00–2026-11-23T09:01:00+00:00 from CDR "
            f"{settings.history.cdr_file}: FileNotFoundError: [Errno 2] No such file or "
            f"directory: '{settings.history.cdr_file}' (the gap stays unfilled; pass 1 of 1)",
        )
    ]


def _pending(service: GapFillService, stream: RecordStream):
    stream.publish([GapObserved(GAP)])
    return service._next_due()


def test_an_unreadable_file_at_start_is_one_warning_and_the_daemon_goes_on(settings, caplog):
    missing = settings.history.cdr_file.with_name("absent.csv")
    settings = settings.model_copy(
        update={"history": settings.history.model_copy(update={"cdr_file": missing})}
    )
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        service = GapFillService(settings, store, stream)
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,))
        thread.start()
        wait_until(lambda: caplog.records, 5.0)
        assert thread.is_alive()
        stop.set()
        thread.join(5.0)

    assert [r.getMessage() for r in caplog.records] == [
        f"history.cdr_file '{missing}' cannot be read (No such file or directory): gaps will "
        "not be filled from the CDR; check the path and that ringtest may read it"
    ]


def test_the_listener_is_hosted_with_the_gap_filler_only_when_a_cdr_file_is_set(settings):
    plain = settings.model_copy(
        update={"history": settings.history.model_copy(update={"cdr_file": None})}
    )
    with Store.open(settings.store_url()) as store:
        names = [s.name for s in build_host(settings, store, DaemonPlan(listen=True)).services]
        plain_names = [s.name for s in build_host(plain, store, DaemonPlan(listen=True)).services]
    gap_fill = f"gap fill {settings.ami.pbx}"
    assert (names, plain_names) == (["web", "listener", gap_fill], ["web", "listener"])


def start_service_after(settings, store, seconds_after_gap: float) -> GapFillService:
    """A gap fill service started `seconds_after_gap` after GAP ended (its clock's now)."""
    at = GAP.ended_at + timedelta(seconds=seconds_after_gap)
    return GapFillService(
        settings, store, RecordStream(), pass_delays_seconds=(5.0, 30.0, 600.0), now=lambda: at
    )


def unfinished_fill(**fields) -> GapFill:
    fill = GapFill("lab", GAP.started_at, "Master.csv", GAP.ended_at, 0, 0, passes_over=False)
    return replace(fill, **fields)


def test_a_fill_cut_between_its_passes_resumes_at_the_next_start_with_the_pass_missed(settings):
    with Store.open(settings.store_url()) as store:
        store.save_gaps([GAP])
        store.save_gap_fill(unfinished_fill(calls_imported=1))
        service = start_service_after(settings, store, seconds_after_gap=40.0)
        run_service(service, lambda: store.gap_fills()[0].filled_at != GAP.ended_at)
        (fill,) = store.gap_fills()

    assert (fill.calls_imported, fill.passes_over) == (1 + 2, False)
    assert service.pending == 1, "the 10-minute pass is still to come"


def test_a_gap_whose_passes_were_all_missed_gets_one_pass_and_is_over(settings):
    with Store.open(settings.store_url()) as store:
        store.save_gaps([GAP])
        service = start_service_after(settings, store, seconds_after_gap=3600.0)
        run_service(service, lambda: service.fills_done == 1)
        (fill,) = store.gap_fills()
        calls = store.calls()

    assert (fill.calls_imported, fill.passes_over, len(calls)) == (2, True, 2)


def test_a_fill_whose_passes_are_over_is_not_resumed(settings):
    with Store.open(settings.store_url()) as store:
        store.save_gaps([GAP])
        store.save_gap_fill(unfinished_fill(passes_over=True))
        service = start_service_after(settings, store, seconds_after_gap=3600.0)
        service._resume_unfinished_fills()

    assert service.pending == 0
