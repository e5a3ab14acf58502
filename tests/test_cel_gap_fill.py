"""Coverage gaps filled from the lab's own CEL (`[history] cel_file`): one pass
(`fill_gap_from_cel`), an incomplete call completed from it, and the service's choice of
the CEL over the CDR."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, CallOutcome, CoverageGap, GapReason
from ringtest.core.stream import GapObserved, RecordStream
from ringtest.lab.settings import LAB_CONFIG
from ringtest.services.gap_fill import GapFillService, history_file
from ringtest.sources.cel_gap_fill import fill_gap_from_cel
from ringtest.store import Store
from tests.test_cel_import import FIXTURE, TOLERANCE_SECONDS, TRUTH
from tests.test_gap_fill import incomplete_call, run_service

GAP = CoverageGap(
    "lab",
    datetime(2026, 12, 4, 10, 28, 13, 500_000, tzinfo=UTC),
    datetime(2026, 12, 4, 10, 28, 18, tzinfo=UTC),
    GapReason.LINK_LOST,
)
"""The lab run's calls to 2004, 2005, 2001 (abandoned), 2006 and 2007 started inside it."""
INSIDE = ("1796380093.1164", "1796380094.1166", "1796380094.1167", "1796380095.1169",
          "1796380097.1171")  # fmt: skip
CUT = "1796380092.1155"
"""The call to 2001 answered after 1 s began before the gap and ended inside it."""
SPAN = "2026-12-04T10:28:13.500000+00:00–2026-12-04T10:28:18+00:00"


@pytest.fixture
def settings(tmp_path: Path):
    cel = shutil.copy(FIXTURE, tmp_path / "Master.csv")
    return load_settings(
        LAB_CONFIG,
        overrides={
            "store.url": f"sqlite:///{tmp_path / 'r.db'}",
            "standards.ring_cadence": "DE",
            "history.cel_file": str(cel),
            "history.cdr_file": str(tmp_path / "cdr.csv"),
        },
        environ={},
    )


def cut_by_the_gap():
    """The listener's record of `CUT`: it saw the ringing start, then lost the link."""
    started_at = datetime(2026, 12, 4, 10, 28, 12, 227_504, tzinfo=UTC)
    return incomplete_call(
        CUT,
        "+441382000199",
        started_at,
        ring_started_at=started_at,
        ring_seconds=0.9,
        rings=1,
        is_test_call=True,
    )


def test_a_pass_imports_the_calls_of_the_gap_exactly_and_completes_the_cut_call(settings):
    with Store.open(settings.store_url()) as store:
        store.save_calls([cut_by_the_gap()])
        done = fill_gap_from_cel(GAP, settings, store, settings.history.cel_file)
        again = fill_gap_from_cel(GAP, settings, store, settings.history.cel_file)
        calls = {call.call_id: call for call in store.calls()}

    assert (done.calls_found, done.calls_imported, done.calls_upgraded) == (5, 5, 1)
    assert (again.calls_imported, again.calls_upgraded) == (0, 0)
    assert sorted(calls) == sorted((CUT, *INSIDE))
    for call_id in INSIDE:
        line, outcome, answered_by, ring_seconds = TRUTH[call_id]
        call = calls[call_id]
        assert (call.line, call.outcome, call.answered_by) == (line, outcome, answered_by)
        if ring_seconds is not None:
            assert call.ring_seconds == pytest.approx(ring_seconds, abs=TOLERANCE_SECONDS)
        assert call.gap_note.startswith("imported from Asterisk CEL Master.csv, lines ")
        assert call.gap_note.endswith(f", filling gap {SPAN}")
    completed = calls[CUT]
    assert (completed.outcome, completed.answered_by) == (CallOutcome.ANSWERED, AnsweredBy.PERSON)
    assert completed.ring_seconds == pytest.approx(1.011, abs=0.001)  # the CEL's, not 0.9
    assert completed.ended_at == datetime(
        2026, 12, 4, 10, 28, 13, 746_468, tzinfo=UTC
    )  # the caller hung up
    assert completed.gap_note == (
        f"the AMI link was lost; completed from Asterisk CEL Master.csv, filling gap {SPAN}"
    )


def test_a_listener_answer_the_cel_does_not_have_is_kept(settings):
    answered = replace(
        cut_by_the_gap(),
        answered_by=AnsweredBy.PERSON,
        answered_at=GAP.started_at,
        ended_at=GAP.started_at + timedelta(seconds=1),
    )
    cel = settings.history.cel_file
    rows = [row for row in cel.read_text().splitlines() if "1796380092.1161" not in row]
    cel.write_text("\n".join(rows) + "\n")  # no callee channel: the CEL saw nobody answer
    with Store.open(settings.store_url()) as store:
        store.save_calls([answered])
        done = fill_gap_from_cel(GAP, settings, store, cel)
        [kept] = [call for call in store.calls() if call.call_id == CUT]

    assert done.calls_upgraded == 1
    assert (kept.outcome, kept.answered_by, kept.ring_seconds) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        0.9,
    )


def test_the_service_fills_from_the_cel_in_preference_to_the_cdr(settings, caplog):
    caplog.set_level(logging.INFO, logger="ringtest.services.gap_fill")
    assert history_file(settings).kind == "CEL"
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        service = GapFillService(settings, store, stream, pass_delays_seconds=(0.0, 0.1))
        stream.publish([GapObserved(GAP)])
        run_service(service, lambda: service.fills_done == 1)
        fills = store.gap_fills()

    assert [(f.source, f.calls_imported, f.calls_upgraded) for f in fills] == [("Master.csv", 5, 0)]
    assert [record.getMessage() for record in caplog.records] == [
        f"filled gap {SPAN} from CEL {settings.history.cel_file}: 5 calls "
        "(0 incomplete calls completed)"
    ]
