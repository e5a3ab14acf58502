"""The report's lines through a menu: one row per department and keys, from ring tests."""

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from analysis.ivr_lines import IVR_LINE_COLUMNS, ivr_lines, ivr_lines_text
from analysis.report import write_report
from analysis.report_data import gather_report
from ringtest.core.records import AnsweredBy, RingTestOutcome, RingTestResult
from tests.analysis.conftest import AFTER_WEEK_47, WEEK_47_MONDAY

PLAIN = RingTestResult(
    test_id="rt-1",
    target="+441382434001",
    account="ringtester",
    department="Council Tax",
    placed_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    outcome=RingTestOutcome.ANSWERED,
    answered_by=AnsweredBy.PERSON,
    pdd_seconds=0.1,
    ring_seconds=4.0,
    tta_seconds=4.1,
    rings=2,
    within_standard=True,
    sip_code=200,
    reason="OK",
)
MENU = replace(
    PLAIN,
    department="Switchboard",
    ring_seconds=0.0,
    rings=0,
    ivr_keys="w2 1",
    ivr_seconds=2.0,
    ring_seconds_after_ivr=4.3,
    rings_after_ivr=2,
    to_person_seconds=6.8,
)


def test_each_menu_line_has_its_tests_people_reached_and_medians():
    tests = [
        PLAIN,
        replace(MENU, test_id="rt-2"),
        replace(MENU, test_id="rt-3", rings_after_ivr=4, to_person_seconds=13.0),
        replace(
            MENU,
            test_id="rt-4",
            answered_by=AnsweredBy.NONE,
            within_standard=False,
            rings_after_ivr=10,
            to_person_seconds=None,
        ),
    ]

    table = ivr_lines(tests)

    assert list(table.columns) == list(IVR_LINE_COLUMNS)
    assert ivr_lines_text(table).to_dict("records") == [
        {
            "department": "Switchboard",
            "keys": "w2 1",
            "tests": "3",
            "reached a person": "2",
            "within standard": "2",
            "median rings after the keys": "4.0",
            "median seconds to a person": "9.9",
        }
    ]


def test_no_menu_tests_make_an_empty_table():
    table = ivr_lines([PLAIN])
    assert table.empty
    assert list(table.columns) == list(IVR_LINE_COLUMNS)


def test_the_reports_html_and_pdf_list_the_lines_through_a_menu(council, tmp_path):
    settings, store = council
    store.save_ring_test(replace(MENU, placed_at=WEEK_47_MONDAY + timedelta(hours=10)))
    data = gather_report(
        settings, store, WEEK_47_MONDAY, WEEK_47_MONDAY + timedelta(days=7), "Week 47",
        "week 2026-W47", now=AFTER_WEEK_47,
    )  # fmt: skip
    files = write_report(data, tmp_path / "report")
    html = files.html.read_text(encoding="utf-8")
    assert "<h2>Lines through a menu</h2>" in html and "<td>w2 1</td>" in html
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(files.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Lines through a menu: Week 47" in pdf
    assert "Menus navigated with their keys, week 2026-W47" in " ".join(pdf.split())
