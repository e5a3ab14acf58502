"""`ringtest reconcile`: the calls a listener stored, held against the PBX's own CDR and CEL
of the same lab run (`tests/fixtures/cel/`): it finds exactly the calls deleted from the
store, says which a recorded coverage gap explains, sees an outcome that differs, and
--fill stores the missed ones, marked as imported."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from ringtest.core.records import CallOutcome, CoverageGap, GapReason
from ringtest.sources.cel_import import import_cel
from ringtest.sources.reconcile import HistoryKind, fill_missed, read_history, reconcile
from ringtest.store import Store, schema
from tests.test_cdr_truth import LAB_CDR
from tests.test_cel_import import FIXTURE as LAB_CEL
from tests.test_cel_import import LAB_CONFIG, TRUTH, settings_in

HISTORY = {HistoryKind.CEL: LAB_CEL, HistoryKind.CDR: LAB_CDR}
DELETED = ("1796380092.1157", "1796380094.1166", "1796380099.1179")
"""The IVR call, the busy one and the queue call: the listener 'missed' these."""
IN_GAP = "1796380094.1166"
IVR_CALL = "1796380092.1157"
"""The IVR call rang on while `IN_GAP` came and went: the gap explains both."""
INCOMPLETE = "1796380092.1155"
"""A call the listener saw begin but not end (its link dropped while it rang)."""


@pytest.fixture
def settings(tmp_path: Path):
    return settings_in(tmp_path)


@pytest.fixture
def store(settings):
    """What the listener stored of the lab run (its calls, as exact as the listener's, from
    its CEL), less `DELETED`, with a coverage gap while `IN_GAP` rang."""
    with Store.open(settings.store_url()) as opened:
        import_cel(LAB_CEL, settings, opened)
        with opened.engine.begin() as connection:
            connection.execute(delete(schema.calls).where(schema.calls.c.call_id.in_(DELETED)))
        busy = history_call(settings, HistoryKind.CEL, IN_GAP)
        second = timedelta(seconds=1)
        opened.save_gaps([CoverageGap(settings.ami.pbx, busy.started_at - 2 * second,
                                      busy.started_at + second, GapReason.LINK_LOST)])  # fmt: skip
        yield opened


def history_call(settings, kind: HistoryKind, call_id: str):
    calls = read_history(HISTORY[kind], kind, settings)
    [call] = [call for call in calls if call.call_id == call_id]
    return call


@pytest.mark.parametrize("kind", list(HistoryKind))
def test_reconcile_finds_exactly_the_calls_deleted_and_the_gap_that_explains_one(
    settings, store, kind
):
    result = reconcile(HISTORY[kind], kind, settings, store)
    assert result.history_calls == len(TRUTH)
    assert sorted(missed.history.call_id for missed in result.missed) == sorted(DELETED)
    gaps = {missed.history.call_id: missed.gap for missed in result.missed}
    assert sorted(call_id for call_id, gap in gaps.items() if gap) == sorted((IVR_CALL, IN_GAP))
    assert gaps[IN_GAP].reason is GapReason.LINK_LOST
    assert result.differing == []
    assert result.source == f"Asterisk {kind.value} {HISTORY[kind].name}"


@pytest.mark.parametrize("kind", list(HistoryKind))
def test_fill_stores_the_missed_calls_marked_as_imported_and_completes_the_cut_one(
    settings, store, kind
):
    calls = schema.calls
    with store.engine.begin() as connection:  # the store never downgrades a call: SQL does
        connection.execute(
            update(calls)
            .where(calls.c.call_id == INCOMPLETE)
            .values(outcome=CallOutcome.INCOMPLETE.value, ended_at=None, gap_note="incomplete")
        )
    result = reconcile(HISTORY[kind], kind, settings, store)
    [differing] = result.differing
    assert (differing.stored.outcome, differing.history.outcome) == (
        CallOutcome.INCOMPLETE,
        CallOutcome.ANSWERED,
    )
    assert differing.gap is not None  # it rang while the link was down
    fill_missed(result, kind, settings, store)
    assert (result.filled, result.completed) == (len(DELETED), 1)
    calls = {call.call_id: call for call in store.calls()}
    for call_id in DELETED:
        assert calls[call_id].gap_note.startswith(f"imported from Asterisk {kind.value}")
        assert calls[call_id].outcome is TRUTH[call_id][1]
    assert "filling gap" in calls[IN_GAP].gap_note  # it started inside the gap
    assert calls[INCOMPLETE].outcome is CallOutcome.ANSWERED  # completed by the gap fill
    again = reconcile(HISTORY[kind], kind, settings, store)
    assert (again.missed, again.differing, again.history_calls) == ([], [], len(TRUTH))


def test_a_period_narrows_what_is_compared(settings, store):
    busy = history_call(settings, HistoryKind.CDR, IN_GAP)
    result = reconcile(LAB_CDR, HistoryKind.CDR, settings, store, since=busy.started_at,
                       until=busy.started_at + timedelta(seconds=1))  # fmt: skip
    assert [missed.history.call_id for missed in result.missed] == [IN_GAP]
    assert result.history_calls == 2  # and the abandoned call begun in the same second


def ringtest_reconcile(settings, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "reconcile", *args]
    env = {"RINGTEST_DB": settings.store_url() or "", "RINGTEST_STANDARDS__RING_CADENCE": "DE"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_ringtest_reconcile_lists_the_missed_calls_without_numbers_then_fills_them(settings, store):
    done = ringtest_reconcile(settings, "--cdr", str(LAB_CDR))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == (
        f"Asterisk CDR {LAB_CDR.name}, the file's calls: 12 calls to monitored lines, 9 stored; "
        "missed 3 (2 in a recorded coverage gap, 1 with no gap recorded); "
        "0 stored with another outcome"
    )
    missed = [line for line in lines if line.startswith("missed: ")]
    assert len(missed) == 3
    assert [line for line in missed if "no coverage gap recorded" in line] == [
        line for line in missed if DELETED[2] in line
    ]
    assert "1382000199" not in done.stdout  # the caller's number
    filled = ringtest_reconcile(settings, "--cdr", str(LAB_CDR), "--fill")
    assert filled.stdout.splitlines()[-1].endswith(
        f"; filled 3 missed calls (marked imported from Asterisk CDR {LAB_CDR.name}) "
        "and completed 0 incomplete ones"
    )
    after = ringtest_reconcile(settings, "--cel", str(LAB_CEL), "--from", "2026-12-04",
                               "--to", "2026-12-04")  # fmt: skip
    assert after.stdout.splitlines() == [
        f"Asterisk CEL {LAB_CEL.name}, 04 Dec 2026 to 04 Dec 2026: 12 calls to monitored "
        "lines, 12 stored; missed 0 (0 in a recorded coverage gap, 0 with no gap recorded); "
        "0 stored with another outcome"
    ]


def test_ringtest_reconcile_wants_one_history_file(settings, store):
    done = ringtest_reconcile(settings, "--cdr", str(LAB_CDR), "--cel", str(LAB_CEL))
    assert done.returncode == 2
    assert done.stderr.startswith("ringtest: give one history file: --cdr FILE or --cel FILE")


@pytest.mark.parametrize("kind", list(HistoryKind))
def test_reconcile_reports_every_byte_it_reads_for_the_progress_bar(settings, store, kind):
    sizes: list[int] = []
    reconcile(HISTORY[kind], kind, settings, store, on_bytes=sizes.append)
    assert sum(sizes) == HISTORY[kind].stat().st_size
