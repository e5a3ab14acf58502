"""The report's lines through a menu: one row per department and keys, from ring tests."""

from dataclasses import replace
from datetime import UTC, datetime

from analysis.ivr_lines import IVR_LINE_COLUMNS, ivr_lines, ivr_lines_text
from ringtest.core.records import AnsweredBy, RingTestOutcome, RingTestResult

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
