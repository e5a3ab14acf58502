"""Contract: ring test results and callback obligations round-trip, upsert and filter."""

from __future__ import annotations

from datetime import UTC, timedelta

from ringtest.core.records import AnsweredBy, CallbackStatus, RingTestOutcome
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, obligation, ring_test_result


def test_ring_test_with_every_field_comes_back_equal(store: Store):
    given = ring_test_result()

    store.save_ring_test(given)

    [stored] = store.ring_tests()
    assert stored == given
    assert stored.placed_at.tzinfo is UTC
    assert type(stored.outcome) is RingTestOutcome
    assert type(stored.answered_by) is AnsweredBy


def test_ring_test_that_was_never_placed_keeps_its_empty_fields_empty(store: Store):
    given = ring_test_result(
        outcome=RingTestOutcome.NOT_PLACED,
        answered_by=AnsweredBy.NONE,
        pdd_seconds=None,
        ring_seconds=None,
        tta_seconds=None,
        rings=None,
        within_standard=False,
        sip_code=None,
        reason="missed its window: caller restarted",
        campaign=None,
        callback_requested=False,
        evidence_path=None,
    )

    store.save_ring_test(given)

    assert store.ring_tests() == [given]


def test_ring_test_saved_again_replaces_its_row(store: Store):
    store.save_ring_test(ring_test_result(outcome=RingTestOutcome.FAILED, reason="timeout"))
    rerun = ring_test_result()

    store.save_ring_test(rerun)

    assert store.ring_tests() == [rerun]


def test_ring_tests_filter_by_period_department_and_campaign(store: Store):
    placements = [
        ("before", MONDAY_9AM - timedelta(seconds=1), "reception", "spring"),
        ("spring_reception", MONDAY_9AM, "reception", "spring"),
        ("spring_housing", MONDAY_9AM + timedelta(minutes=5), "housing", "spring"),
        ("ad_hoc_housing", MONDAY_9AM + timedelta(minutes=10), "housing", None),
        ("after", MONDAY_9AM + timedelta(hours=1), "housing", "spring"),
    ]
    for test_id, placed_at, department, campaign in placements:
        store.save_ring_test(
            ring_test_result(
                test_id=test_id, placed_at=placed_at, department=department, campaign=campaign
            )
        )
    hour = {"since": MONDAY_9AM, "until": MONDAY_9AM + timedelta(hours=1)}

    def ids(**filters: object) -> list[str]:
        return [result.test_id for result in store.ring_tests(**hour, **filters)]

    assert ids() == ["spring_reception", "spring_housing", "ad_hoc_housing"]
    assert ids(department="housing") == ["spring_housing", "ad_hoc_housing"]
    assert ids(campaign="spring") == ["spring_reception", "spring_housing"]
    assert ids(department="housing", campaign="spring") == ["spring_housing"]


def test_obligation_with_every_field_comes_back_equal(store: Store):
    given = obligation()

    store.save_obligation(given)

    [stored] = store.obligations()
    assert stored == given
    assert [stored.missed_at.tzinfo, stored.deadline_at.tzinfo, stored.closed_at.tzinfo] == [
        UTC
    ] * 3
    assert type(stored.status) is CallbackStatus


def test_open_obligation_keeps_its_empty_fields_empty(store: Store):
    given = obligation(
        status=CallbackStatus.OPEN,
        closed_at=None,
        closing_call_id=None,
        connected=None,
        working_seconds=None,
    )

    store.save_obligation(given)

    assert store.obligations() == [given]


def test_closing_an_obligation_replaces_its_row(store: Store):
    store.save_obligation(obligation(status=CallbackStatus.OPEN, closed_at=None))
    closed = obligation(status=CallbackStatus.CALLER_GOT_THROUGH, connected=True)

    store.save_obligation(closed)

    assert store.obligations() == [closed]
    assert store.obligations(CallbackStatus.OPEN) == []


def test_obligations_filter_by_status_earliest_deadline_first(store: Store):
    statuses = {
        "late_open": (CallbackStatus.OPEN, 3),
        "overdue": (CallbackStatus.OVERDUE, 1),
        "early_open": (CallbackStatus.OPEN, 2),
    }
    for call_id, (status, deadline_hours) in statuses.items():
        store.save_obligation(
            obligation(
                call_id=call_id,
                status=status,
                deadline_at=MONDAY_9AM + timedelta(hours=deadline_hours),
            )
        )

    assert [ob.call_id for ob in store.obligations(CallbackStatus.OPEN)] == [
        "early_open",
        "late_open",
    ]
    assert [ob.call_id for ob in store.obligations(CallbackStatus.OVERDUE)] == ["overdue"]
    assert store.obligations(CallbackStatus.NOT_CALLED_BACK) == []
    assert [ob.call_id for ob in store.obligations()] == ["overdue", "early_open", "late_open"]
