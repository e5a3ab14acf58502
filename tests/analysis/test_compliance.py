"""The answering standard, computed on small hand-checked sets of calls."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from analysis.compliance import wilson_interval
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from tests.analysis.oracle import answering_compliance

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def call(n: int, department: str, outcome: CallOutcome, rings: int | None, **extra) -> CallRecord:
    person = outcome is CallOutcome.ANSWERED
    fields = dict(
        call_id=f"{n}.0",
        pbx="lab",
        line="2002",
        department=department,
        caller="+441382000101",
        dialled="2002",
        started_at=START + timedelta(minutes=n),
        ring_started_at=START,
        answered_at=START if person else None,
        answered_by=AnsweredBy.PERSON if person else AnsweredBy.NONE,
        ended_at=START,
        ring_seconds=None if rings is None else rings * 3.0 - 1,
        rings=rings,
        outcome=outcome,
        within_standard=person and rings is not None and rings <= 7,
    )
    return CallRecord(**{**fields, **extra})


HOUSING = [
    call(1, "Housing", CallOutcome.ANSWERED, 2),
    call(2, "Housing", CallOutcome.ANSWERED, 3),
    call(3, "Housing", CallOutcome.ANSWERED, 8),
    call(4, "Housing", CallOutcome.ABANDONED, 4),
]


def test_answer_after_eight_rings_breaches_the_seven_ring_standard():
    [row] = answering_compliance(HOUSING).to_dict("records")
    assert (row["offered"], row["answered_by_person"], row["within_standard"]) == (4, 3, 2)
    assert row["within_standard_pct"] == 50.0
    assert row["median_rings"] == 3.0
    assert row["abandoned"] == 1


def test_ring_tests_are_kept_out_of_live_figures():
    mystery = call(5, "Housing", CallOutcome.ABANDONED, 9, is_test_call=True)
    [row] = answering_compliance([*HOUSING, mystery]).to_dict("records")
    assert row["offered"] == 4


def test_voicemail_is_not_a_person_answering():
    voicemail = call(6, "Planning", CallOutcome.VOICEMAIL, 4, answered_by=AnsweredBy.VOICEMAIL)
    [row] = answering_compliance([voicemail]).to_dict("records")
    assert (row["answered_by_person"], row["within_standard"], row["voicemail"]) == (0, 0, 1)
    assert math.isnan(row["median_rings"])


def test_each_department_gets_its_own_row():
    tax = call(7, "Council Tax", CallOutcome.ANSWERED, 1)
    rows = answering_compliance([*HOUSING, tax])
    assert list(rows["department"]) == ["Council Tax", "Housing"]
    assert list(rows["within_standard_pct"]) == [100.0, 50.0]


def test_no_calls_gives_no_rows_not_an_error():
    assert answering_compliance([]).empty


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0)],
)
def test_wilson_interval_matches_the_textbook(successes, trials, low, high):
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-4)
