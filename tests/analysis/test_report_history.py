"""What imported CDR history cannot say, in the weekly report (issue 14): calls whose ring
time is not in the CDR are counted apart and never within the standard, and whole-second
ring times near the standard's last ring are marked uncertain, in the rows, the CSV, the
headline and the notes under it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from analysis.display import within_text
from analysis.report import write_report
from analysis.report_tables import coverage_note, headline, sources_table
from ringtest.config import load_settings
from ringtest.core.observations import Source
from ringtest.sources.cdr_import import import_cdr
from ringtest.store import Store
from tests.analysis.conftest import stored_call
from tests.analysis.test_report_quiet import week
from tests.test_cdr_truth import IVR_CALL, LAB_CDR
from tests.test_cel_import import LAB_CONFIG

WEEK_2027_W02 = datetime(2027, 1, 11, 10, tzinfo=UTC)
AFTER_IT = datetime(2027, 1, 25, 9, tzinfo=UTC)
CDR_NOTE = "imported from Asterisk CDR Master.csv, line 7, whole seconds"


def cdr_call(n: int, ring_seconds: float, answered: bool = True, note: str = CDR_NOTE):
    call = stored_call(n, "Housing", "2002", WEEK_2027_W02 + timedelta(minutes=n), ring_seconds,
                       answered)  # fmt: skip
    return dataclasses.replace(call, gap_note=note)


def live_row(rows: pd.DataFrame, department: str) -> pd.Series:
    return rows[(rows["source"] == Source.LIVE) & (rows["department"] == department)].iloc[0]


def test_the_percent_shows_what_the_cdr_cannot_say_beside_it():
    assert within_text(66.7, 0, 0) == "67%"
    assert within_text(66.7, 2, 0) == "67% (±1 s CDR: 2)"
    assert within_text(50.0, 1, 1_234) == "50% (±1 s CDR: 1; ring time not in the CDR: 1,234)"


def test_cdr_calls_near_the_standard_are_uncertain_and_the_listeners_are_not(
    council, tmp_path: Path
):
    settings, store = council
    store.save_calls([
        cdr_call(1, 21.0),  # within, but 20.x or 21.x s before the cut: uncertain
        cdr_call(2, 22.0, answered=False),  # an abandon: never "uncertain"
        cdr_call(3, 21.4),  # 8 rings, and uncertain
        cdr_call(4, 10.0),  # certain
        dataclasses.replace(cdr_call(5, 21.0), gap_note=None),  # the listener's: exact
    ])  # fmt: skip
    data = week(settings, store, "2027-W02", now=AFTER_IT)
    row = live_row(data.rows, "Housing")
    assert (row["offered"], row["within_standard"], row["within_standard_uncertain"]) == (5, 3, 2)
    assert row["ring_time_unknown"] == 0
    housing = headline(data).set_index("Department").loc["Housing"]
    assert housing["Answered within 7 rings"] == "60% (±1 s CDR: 2)"
    assert "±1 s CDR: 2 calls imported from the CDR, answered so near" in coverage_note(data)
    csv = pd.read_csv(write_report(data, tmp_path / "out").csv)
    csv_row = csv[(csv["source"] == "live") & (csv["department"] == "Housing")].iloc[0]
    assert (csv_row["within_standard_uncertain"], csv_row["ring_time_unknown"]) == (2, 0)


def test_the_labs_ivr_call_imported_from_its_cdr_is_counted_apart_never_within(tmp_path: Path):
    """The lab's calls come from its ring tester: counted here as the public's calls."""
    settings = load_settings(
        LAB_CONFIG,
        overrides={"store.url": f"sqlite:///{tmp_path / 'r.db'}", "standards.test_caller_ids": []},
        environ={},
    )
    with Store.open(settings.store_url()) as store:
        import_cdr(LAB_CDR, settings, store)
        [ivr] = [call for call in store.calls() if call.call_id == IVR_CALL]
        data = week(settings, store, "2026-W49", now=datetime(2026, 12, 20, tzinfo=UTC))
    row = live_row(data.rows, ivr.department)
    assert (row["ring_time_unknown"], row["answered_by_person"]) == (1, 1)
    assert row["within_standard"] == 0  # never within: the CDR does not say
    department = sources_table(data.of_department(ivr.department)).iloc[0]
    assert department["Within standard"] == "0% (ring time not in the CDR: 1)"
    assert "Ring time not in the CDR: 1 call imported from the CDR" in coverage_note(data)
