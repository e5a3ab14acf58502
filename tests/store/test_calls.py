"""Contract: calls round-trip, upsert by (pbx, call_id) and filter by half-open periods."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest

from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, call_record

PARIS_WINTER = timezone(timedelta(hours=1))


def test_call_with_every_field_comes_back_equal_with_utc_instants_and_enums(store: Store):
    given = call_record(
        started_at=MONDAY_9AM.astimezone(PARIS_WINTER),
        answered_at=(MONDAY_9AM + timedelta(seconds=14.25)).astimezone(PARIS_WINTER),
    )

    store.save_calls([given])

    [stored] = store.calls()
    assert stored == given
    instants = [stored.started_at, stored.ring_started_at, stored.answered_at, stored.ended_at]
    assert [instant.tzinfo for instant in instants] == [UTC] * 4
    assert stored.started_at.hour == 9
    assert stored.ended_at == MONDAY_9AM + timedelta(minutes=3, microseconds=125)
    assert type(stored.answered_by) is AnsweredBy
    assert type(stored.outcome) is CallOutcome
    assert (stored.ring_seconds, stored.rings, stored.ivr_seconds) == (11.75, 2, 4.5)
    assert (stored.within_standard, stored.is_test_call) == (True, True)


def test_unanswered_call_keeps_its_empty_fields_empty(store: Store):
    given = call_record(
        ring_started_at=None,
        answered_at=None,
        answered_by=AnsweredBy.NONE,
        ended_at=None,
        ring_seconds=None,
        rings=None,
        outcome=CallOutcome.ABANDONED,
        within_standard=False,
        is_test_call=False,
        ivr_seconds=None,
        gap_note=None,
    )

    store.save_calls([given])

    assert store.calls() == [given]


def test_replayed_call_replaces_its_row_instead_of_duplicating(store: Store):
    store.save_calls([call_record(outcome=CallOutcome.INCOMPLETE, gap_note="listener restarted")])
    replayed = call_record(outcome=CallOutcome.ANSWERED, gap_note=None)

    store.save_calls([replayed])

    assert store.calls() == [replayed]


def test_same_call_twice_in_one_batch_keeps_the_later(store: Store):
    first = call_record(rings=1)
    later = call_record(rings=3)

    saved = store.save_calls([first, later])

    assert saved == 2
    assert store.calls() == [later]


def test_same_call_id_on_two_pbxes_is_two_calls(store: Store):
    town_hall = call_record(pbx="town-hall")
    library = call_record(pbx="library", started_at=MONDAY_9AM + timedelta(seconds=1))

    store.save_calls([town_hall, library])

    assert store.calls() == [town_hall, library]


def test_save_calls_counts_records_across_batches(store: Store):
    records = [
        call_record(call_id=f"c{number}", started_at=MONDAY_9AM + timedelta(seconds=number))
        for number in range(12_345)
    ]

    assert store.save_calls(iter(records)) == 12_345
    assert store.calls() == records


def test_saving_no_calls_saves_nothing(store: Store):
    assert store.save_calls([]) == 0
    assert store.calls() == []


def test_calls_come_back_ordered_by_start_whatever_the_saving_order(store: Store):
    late = call_record(call_id="late", started_at=MONDAY_9AM + timedelta(hours=2))
    early = call_record(call_id="early", started_at=MONDAY_9AM)

    store.save_calls([late, early])

    assert [call.call_id for call in store.calls()] == ["early", "late"]


def test_period_includes_its_start_and_excludes_its_end(store: Store):
    ten_am = MONDAY_9AM + timedelta(hours=1)
    starts = {
        "just_before": MONDAY_9AM - timedelta(microseconds=1),
        "at_start": MONDAY_9AM,
        "inside": MONDAY_9AM + timedelta(minutes=30),
        "just_inside": ten_am - timedelta(microseconds=1),
        "at_end": ten_am,
    }
    store.save_calls(call_record(call_id=name, started_at=at) for name, at in starts.items())

    in_hour = store.calls(since=MONDAY_9AM, until=ten_am)

    assert [call.call_id for call in in_hour] == ["at_start", "inside", "just_inside"]


def test_period_bounds_in_another_zone_mean_the_same_instants(store: Store):
    store.save_calls(
        [
            call_record(call_id="before", started_at=MONDAY_9AM - timedelta(seconds=1)),
            call_record(call_id="at_start", started_at=MONDAY_9AM),
        ]
    )

    since_in_paris = MONDAY_9AM.astimezone(PARIS_WINTER)

    assert [call.call_id for call in store.calls(since=since_in_paris)] == ["at_start"]


def test_calls_filter_by_line_and_department(store: Store):
    store.save_calls(
        [
            call_record(call_id="a", line="switchboard", department="reception"),
            call_record(call_id="b", line="housing", department="housing"),
            call_record(call_id="c", line="repairs", department="housing"),
        ]
    )

    assert [call.call_id for call in store.calls(line="housing")] == ["b"]
    assert [call.call_id for call in store.calls(department="housing")] == ["b", "c"]
    assert store.calls(line="repairs", department="reception") == []


def test_iter_calls_streams_the_same_calls_in_the_same_order(store: Store):
    records = [
        call_record(call_id=f"c{number}", started_at=MONDAY_9AM + timedelta(seconds=number))
        for number in range(2_500)
    ]
    store.save_calls(reversed(records))

    streamed = store.iter_calls(since=MONDAY_9AM + timedelta(seconds=10))

    assert list(streamed) == records[10:]


def test_naive_datetime_is_refused_and_the_whole_batch_with_it(store: Store):
    stored_before = call_record(call_id="before")
    store.save_calls([stored_before])
    naive = call_record(call_id="naive", started_at=MONDAY_9AM.replace(tzinfo=None))

    with pytest.raises(ValueError) as raised:
        store.save_calls([call_record(call_id="good"), naive])

    assert str(raised.value) == (
        "naive datetime 2025-03-03T09:00:00 cannot be stored: pass a timezone-aware datetime (UTC)"
    )
    assert store.calls() == [stored_before]


def test_naive_period_bound_is_refused(store: Store):
    with pytest.raises(ValueError, match="^naive datetime 2025-03-03T09:00:00 cannot be stored"):
        store.calls(since=MONDAY_9AM.replace(tzinfo=None))
