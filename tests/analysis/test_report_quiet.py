"""Figures a manager can trust: quiet weeks and departments, callbacks not yet due, IVRs,
every configured department, one spelling of a number (issue 12, items 1, 2, 4, 5, 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from matplotlib.figure import Figure
from pypdf import PdfReader

from analysis import charts
from analysis.report import week_period, write_report
from analysis.report_data import ReportData, gather_report
from analysis.report_tables import headline
from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.store import Store
from tests.analysis.conftest import AFTER_WEEK_47, CALLER, DEPARTMENTS, WEEK_47_MONDAY, stored_call
from tests.analysis.test_report import ringtest

LONDON = ZoneInfo("Europe/London")


def week(settings, store, name: str, now: datetime, department: str | None = None) -> ReportData:
    period = week_period(name, LONDON)
    return gather_report(settings, store, period.since, period.until, period.title, period.when,
                         department, now=now)  # fmt: skip


def test_a_week_without_calls_writes_every_file_and_says_so(council, tmp_path: Path):
    settings, store = council
    data = week(settings, store, "2027-W02", now=datetime(2027, 1, 18, 8, tzinfo=UTC))
    files = write_report(data, tmp_path)
    for path in (files.pdf, files.csv, files.weekly_csv, files.html, *files.charts.values()):
        assert path.stat().st_size > 0
    assert len(files.charts) == 4
    [page] = PdfReader(files.pdf).pages
    assert "There were no calls to any monitored line in week 2027-W02." in page.extract_text()
    assert "There were no calls to any monitored line in week 2027-W02." in files.html.read_text()
    assert list(pd.read_csv(files.csv)["offered"]) == [0] * len(DEPARTMENTS)


def test_ringtest_report_for_a_quiet_department_says_it_had_no_calls(council, tmp_path: Path):
    settings, _store = council
    done = ringtest("report", "--week", "2026-W47", "--department", "permits",
                    "--out", str(tmp_path), env_db=settings.store_url() or "")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [page] = PdfReader(tmp_path / "report.pdf").pages
    assert "No calls to Permits in week 2026-W47." in " ".join(page.extract_text().split())
    assert {path.name for path in tmp_path.iterdir()} >= {
        "report.pdf", "compliance.csv", "compliance-weekly.csv", "summary.html",
        "compliance.png", "rings.png", "callbacks.png", "trend.png",
    }  # fmt: skip


def test_the_default_period_on_a_fresh_database_writes_the_report(tmp_path: Path):
    Store.open(f"sqlite:///{tmp_path / 'fresh.db'}").close()
    done = ringtest("report", "--out", str(tmp_path / "out"),
                    env_db=f"sqlite:///{tmp_path / 'fresh.db'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.pdf").exists()
    html = (tmp_path / "out" / "summary.html").read_text()
    assert "There were no calls to any monitored line" in html


def test_every_configured_department_has_a_row_with_its_calls(council):
    settings, store = council
    table = headline(week(settings, store, "2026-W47", AFTER_WEEK_47)).set_index("Department")
    assert list(table.index) == DEPARTMENTS
    assert table.loc["Permits", "Calls"] == "0"
    assert table.loc["Permits", "Answered within 7 rings"] == "-"
    assert table.loc["Council Tax", "Calls"] == "5"


def owed(n: int, missed: datetime, status=CallbackStatus.OPEN, closed: datetime | None = None):
    return CallbackObligation(
        call_id=f"owed-{n}", pbx="lab", caller=CALLER, line="2004", department="Planning",
        missed_at=missed, deadline_at=missed + timedelta(days=1), status=status,
        closed_at=closed, working_seconds=None if closed is None else 1800.0,
    )  # fmt: skip


def test_a_callback_not_yet_due_is_not_a_failure(council):
    settings, store = council
    friday = WEEK_47_MONDAY + timedelta(days=4)  # Friday 20 November, 10:00 UTC
    store.save_obligation(owed(1, friday))  # due Saturday 10:00: not yet due at 09:00
    store.save_obligation(owed(2, friday - timedelta(days=2)))  # past its deadline: late
    store.save_obligation(owed(3, friday, CallbackStatus.CALLED_BACK, friday + timedelta(hours=1)))
    now = friday + timedelta(hours=23)
    data = week(settings, store, "2026-W47", now)
    row = data.rows[(data.rows["source"] == "live") & (data.rows["department"] == "Planning")]
    [planning] = row.to_dict("records")
    # the fixture's abandoned Planning call was called back in time, on Monday
    assert (planning["called_back_within_standard"], planning["callbacks_late_or_never"],
            planning["callbacks_not_yet_due"]) == (1, 1, 2)  # fmt: skip
    assert planning["called_back_within_standard_pct"] == 50.0
    table = headline(data).set_index("Department")
    assert table.loc["Planning", "Returned within 1 working day"] == "50%"
    assert table.loc["Planning", "Callbacks not yet due"] == "2"
    later = week(settings, store, "2026-W47", AFTER_WEEK_47)
    assert headline(later).set_index("Department").loc["Planning", "Callbacks not yet due"] == "0"


def test_the_callback_curve_stays_below_100_percent_while_callers_wait():
    figure = Figure()
    ax = figure.add_subplot()
    charts.callback_ecdf(ax, {"Housing": [1.0, 2.0]}, {"Housing": 4}, 8.0, "1 working day", "w")
    [curve] = [line for line in ax.get_lines() if line.get_label().startswith("Housing")]
    assert max(curve.get_ydata()) == 50.0
    assert curve.get_label() == "Housing (2 of 4 returned)"


def test_a_mystery_call_answered_by_an_ivr_says_so(council, tmp_path: Path):
    settings, store = council
    store.save_ring_test(
        RingTestResult(
            test_id="ivr",
            target="2011",
            account="ringtester",
            department="Out of order",
            placed_at=WEEK_47_MONDAY + timedelta(days=2),
            outcome=RingTestOutcome.ANSWERED,
            answered_by=AnsweredBy.IVR,
            pdd_seconds=0.1,
            ring_seconds=3.0,
            tta_seconds=None,
            rings=1,
            within_standard=False,
            sip_code=200,
            reason="OK",
        )  # fmt: skip
    )
    data = week(settings, store, "2026-W47", AFTER_WEEK_47)
    table = headline(data).set_index("Department")
    expected = "0 of 1 (1 answered by an IVR)"
    assert table.loc["Out of order", "Mystery calls within standard"] == expected
    files = write_report(data, tmp_path)
    assert expected in files.html.read_text()
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(files.pdf).pages]
    [page] = [text for text in pages if "Out of order: Telephone standards" in text]
    assert f"Mystery test calls within the standard: {expected}." in page


def test_a_count_is_spelt_with_thousands_separators_everywhere(council, tmp_path: Path):
    settings, store = council
    store.save_calls([
        stored_call(1000 + n, "Reception", "2007", WEEK_47_MONDAY + timedelta(seconds=n), 3.0, True)
        for n in range(1234)
    ])  # fmt: skip
    files = write_report(week(settings, store, "2026-W47", AFTER_WEEK_47), tmp_path)
    texts = [page.extract_text() for page in PdfReader(files.pdf).pages]
    html = files.html.read_text()
    reception = next(text for text in texts if "Reception: Telephone standards" in text)
    assert "1,234" in texts[0] and "1,234" in reception and "1,234" in html
    assert not any("1234" in text for text in [*texts, html])


def test_a_histogram_counts_whole_calls_and_an_empty_one_has_a_plain_axis():
    figure = Figure()
    few, empty = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    charts.rings_histogram(few, pd.DataFrame({"rings": [2, 3], "calls": [1, 2]}), 7, "w")
    charts.rings_histogram(empty, pd.DataFrame({"rings": [], "calls": []}), 7, "w")
    assert all(tick == int(tick) for tick in few.get_yticks())
    assert empty.get_ylim()[0] == 0 and empty.get_ylim()[1] >= 1
