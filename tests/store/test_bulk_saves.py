"""Large saves: the rounds that keep a key's records in order, and a store that saves
again after a refused save (on PostgreSQL the staging table goes with its transaction)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringtest.core.errors import StoreError
from ringtest.core.records import CallOutcome
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, call_record


def test_a_key_saved_three_times_in_one_large_save_keeps_its_last_record(store: Store):
    versions = [
        [
            call_record(
                call_id=f"c{number}",
                started_at=MONDAY_9AM + timedelta(seconds=number),
                rings=rings,
            )
            for number in range(4000)
        ]
        for rings in (1, 2, 3)
    ]
    interleaved = [call for three in zip(*versions, strict=True) for call in three]

    assert store.save_calls(interleaved) == 12_000
    assert store.calls() == versions[-1]


def test_an_incomplete_record_between_two_complete_ones_in_one_save_changes_nothing(
    store: Store,
):
    whole = call_record(rings=2)
    partial = call_record(outcome=CallOutcome.INCOMPLETE, rings=None, ring_seconds=None)

    store.save_calls([call_record(rings=1), partial, whole, partial])

    assert store.calls() == [whole]


def test_after_a_refused_save_the_next_save_is_stored(store: Store):
    naive = call_record(call_id="naive", started_at=MONDAY_9AM.replace(tzinfo=None))
    with pytest.raises(ValueError, match="^naive datetime"):
        store.save_calls([call_record(call_id="before"), naive])

    store.save_calls([call_record(call_id="after")])
    store.save_calls([call_record(call_id="again")])

    assert [call.call_id for call in store.calls()] == ["after", "again"]


@pytest.mark.postgres
def test_a_row_postgresql_refuses_during_copy_is_one_line_and_stores_nothing(
    postgres_schema_url: str,
):
    with Store.open(postgres_schema_url) as store:
        with pytest.raises(StoreError) as raised:
            store.save_calls([call_record(call_id="good"), call_record(caller="+44\x00")])
        assert str(raised.value) == (
            f"writing to database {store.url_for_display} failed: invalid byte sequence for "
            'encoding "UTF8": 0x00: check that RINGTEST_DB names a working ringtest database'
        )
        assert store.calls() == []
