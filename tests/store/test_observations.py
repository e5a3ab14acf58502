"""Contract: the store observes calls and ring tests in SQL as `ringtest.core.observations` does."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from ringtest.core.observations import Observation, Source, observe_call, observe_ring_test
from ringtest.core.records import AnsweredBy, CallOutcome, RingTestOutcome
from ringtest.store import Store
from ringtest.store.observations import observations
from tests.store.builders import MONDAY_9AM, call_record, ring_test_result

SINCE, UNTIL = MONDAY_9AM, MONDAY_9AM + timedelta(days=1)
KINDS = list(product(AnsweredBy, (True, False), (2, 9, None)))
"""Who answered, within_standard as recorded, rings: each kind once per outcome."""


def at(n: int) -> timedelta:
    """The n-th record's start after SINCE; the last two fall outside [SINCE, UNTIL)."""
    return {-1: timedelta(seconds=-1), -2: UNTIL - SINCE}.get(n, timedelta(minutes=n))


def seconds_of(rings: int | None) -> float | None:
    return None if rings is None else 3.0 * rings


def stored_observations(store: Store, source: Source, department: str | None = None) -> list:
    with store.reading() as connection:
        rows = connection.execute(observations(source, SINCE, UNTIL, department)).mappings()
        observed = [
            Observation(**{**row, "source": Source(row["source"]),
                           "outcome": CallOutcome(row["outcome"])})
            for row in rows
        ]  # fmt: skip
    return sorted(observed, key=lambda observation: observation.started_at)


@pytest.mark.parametrize("department", [None, "housing"])
def test_stored_calls_are_observed_as_observe_call_observes_them(store: Store, department):
    calls = [
        call_record(
            call_id=f"{n}.1", started_at=SINCE + at(n), outcome=outcome, answered_by=answered_by,
            within_standard=within, rings=rings, ring_seconds=seconds_of(rings),
            is_test_call=n % 5 == 0, department=("housing", "reception")[n % 2],
        )
        for n, (outcome, (answered_by, within, rings)) in enumerate(product(CallOutcome, KINDS))
    ]  # fmt: skip
    calls += [call_record(call_id=f"out{n}", started_at=SINCE + at(n), is_test_call=False)
              for n in (-1, -2)]  # fmt: skip
    store.save_calls(calls)
    expected = [
        observed
        for call in calls
        if (observed := observe_call(call)) is not None
        and SINCE <= call.started_at < UNTIL
        and department in (None, call.department)
    ]
    assert any(call.is_test_call for call in calls)
    assert stored_observations(store, Source.LIVE, department) == expected


@pytest.mark.parametrize("department", [None, "housing"])
def test_stored_ring_tests_are_observed_as_observe_ring_test_observes_them(
    store: Store, department
):
    tests = [
        ring_test_result(
            test_id=f"t{n}", placed_at=SINCE + at(n), outcome=outcome, answered_by=answered_by,
            within_standard=within, rings=rings, ring_seconds=seconds_of(rings),
            department=("housing", "reception")[n % 2], target=f"line-{n % 3}",
        )
        for n, (outcome, (answered_by, within, rings)) in enumerate(product(RingTestOutcome, KINDS))
    ]  # fmt: skip
    tests += [ring_test_result(test_id=f"out{n}", placed_at=SINCE + at(n)) for n in (-1, -2)]
    for result in tests:
        store.save_ring_test(result)
    expected = [
        observed
        for result in tests
        if (observed := observe_ring_test(result)) is not None
        and SINCE <= result.placed_at < UNTIL
        and department in (None, result.department)
    ]
    observed = stored_observations(store, Source.RING_TEST, department)
    assert observed == expected
    outcomes = {observation.outcome for observation in observed}
    assert outcomes == ({CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.VOICEMAIL,
                         CallOutcome.BUSY, CallOutcome.FAILED})  # fmt: skip
