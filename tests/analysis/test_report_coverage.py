"""Calls the listener did not see whole, and how much of a period it saw its PBX
(issue 12, item 3): shown apart, never counted as offered-and-failed, in every output."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.display import coverage_text
from analysis.report import write_report
from analysis.report_tables import headline
from ringtest.core.observations import Source
from ringtest.core.records import AnsweredBy, CallOutcome, CoverageGap, GapReason
from tests.analysis.conftest import stored_call
from tests.analysis.test_report_quiet import week

WEEK_2027_W02 = datetime(2027, 1, 11, tzinfo=UTC)
"""Monday 00:00 of week 2027-W02 (London is on UTC in January)."""
AFTER_IT = datetime(2027, 1, 25, 9, tzinfo=UTC)


def not_seen_whole(n: int, department: str, line: str, at: datetime):
    """A call open when the listener lost its link: no answer, no end known."""
    call = stored_call(n, department, line, at, 4.0, answered=True)
    return dataclasses.replace(
        call, outcome=CallOutcome.INCOMPLETE, answered_by=AnsweredBy.NONE, answered_at=None,
        ended_at=None, within_standard=False,
    )  # fmt: skip


def housing_row(data) -> pd.Series:
    rows = data.rows
    return rows[(rows["source"] == Source.LIVE) & (rows["department"] == "Housing")].iloc[0]


def test_four_calls_not_seen_whole_do_not_pull_housing_below_its_two_answered(council):
    settings, store = council
    at = WEEK_2027_W02 + timedelta(hours=10)
    store.save_calls([
        stored_call(9001, "Housing", "2002", at, 3.0, answered=True),
        stored_call(9002, "Housing", "2002", at + timedelta(minutes=5), 6.0, answered=True),
        *(not_seen_whole(9010 + n, "Housing", "2002", at + timedelta(minutes=10 + n))
          for n in range(4)),
    ])  # fmt: skip
    row = housing_row(week(settings, store, "2027-W02", now=AFTER_IT))
    assert (row["offered"], row["within_standard"], row["incomplete"]) == (2, 2, 4)
    assert row["within_standard_pct"] == 100.0
    assert (row["missed"], row["answered_by_person"]) == (0, 2)


def test_every_row_carries_the_share_of_the_week_the_listener_saw_its_pbx(council, tmp_path: Path):
    settings, store = council
    monday_noon = WEEK_2027_W02 + timedelta(hours=12)
    store.save_calls([stored_call(9101, "Housing", "2002", monday_noon, 3.0, answered=True)])
    store.save_gaps([
        CoverageGap("lab", monday_noon, monday_noon + timedelta(hours=12), GapReason.LISTENER_DOWN),
        CoverageGap("other-pbx", monday_noon, monday_noon + timedelta(days=3),
                    GapReason.LINK_LOST),
    ])  # fmt: skip
    data = week(settings, store, "2027-W02", now=AFTER_IT)
    expected = 100.0 * (1 - 12 / (7 * 24))
    live = data.rows[data.rows["source"] == Source.LIVE]
    assert live["coverage_pct"].tolist() == pytest.approx([expected] * len(live))
    assert data.rows.loc[data.rows["source"] == Source.RING_TEST, "coverage_pct"].isna().all()
    [this_week] = data.weekly.loc[
        (data.weekly["source"] == Source.LIVE) & (data.weekly["department"] == "Housing")
        & (data.weekly["period"] == "2027-W02"), "coverage_pct"]  # fmt: skip
    assert this_week == pytest.approx(expected)

    assert set(headline(data)["Listener saw the PBX"]) == {"92.8%"}
    files = write_report(data, tmp_path)
    csv = pd.read_csv(files.csv)
    assert csv["coverage_pct"].dropna().tolist() == pytest.approx([expected] * len(live))
    assert "incomplete" in csv.columns
    summary_page = " ".join(PdfReader(files.pdf).pages[0].extract_text().split())
    sentence = "The listener saw the PBX for 92.8% of the period."
    assert sentence in summary_page
    html = files.html.read_text()
    assert sentence in html
    assert "<th scope='col'>Listener saw the PBX</th>" in html
    assert "<th scope='col'>Not fully seen</th>" in html


def test_the_part_of_a_week_still_to_come_is_not_counted_as_a_gap(council):
    settings, store = council
    store.save_gaps([CoverageGap("lab", WEEK_2027_W02, WEEK_2027_W02 + timedelta(hours=6),
                                 GapReason.LINK_LOST)])  # fmt: skip
    tuesday = WEEK_2027_W02 + timedelta(days=1)
    row = housing_row(week(settings, store, "2027-W02", now=tuesday))
    assert row["coverage_pct"] == pytest.approx(75.0)


def test_a_week_without_gaps_reads_as_seen_whole(council):
    settings, store = council
    data = week(settings, store, "2027-W02", now=AFTER_IT)
    assert set(headline(data)["Listener saw the PBX"]) == {"100%"}


@pytest.mark.parametrize(
    ("percent", "text"),
    [(100.0, "100%"), (99.96, "99.9%"), (87.25, "87.2%"), (0.0, "0.0%"), (float("nan"), "-")],
)
def test_coverage_is_never_rounded_up_to_whole(percent, text):
    assert coverage_text(percent) == text
