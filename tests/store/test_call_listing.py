"""Listing calls: the page (newest N, the total), the export rows, insert-if-new; both databases."""

from __future__ import annotations

import io
from dataclasses import fields
from datetime import timedelta

from ringtest.core.records import CallRecord
from ringtest.outputs.export import write_records, write_rows
from ringtest.store import Store, call_listing
from ringtest.store import store as store_module
from ringtest.store.call_listing import call_rows, count_calls, newest_calls
from tests.store.builders import MONDAY_9AM, call_record


def calls_at_minutes(count: int, department: str = "reception") -> list:
    return [
        call_record(
            call_id=f"{department}.{minute}",
            department=department,
            started_at=MONDAY_9AM + timedelta(minutes=minute),
        )
        for minute in range(count)
    ]


def test_newest_calls_are_the_latest_started_shown_oldest_first(store: Store):
    store.save_calls(calls_at_minutes(7))
    page = newest_calls(store, 3)
    assert [call.call_id for call in page] == ["reception.4", "reception.5", "reception.6"]
    assert page == store.calls()[-3:]


def test_newest_calls_and_the_count_take_the_same_filters(store: Store):
    store.save_calls(calls_at_minutes(5) + calls_at_minutes(4, department="housing"))
    since = MONDAY_9AM + timedelta(minutes=1)
    page = newest_calls(store, 2, since=since, department="housing")
    assert [call.call_id for call in page] == ["housing.2", "housing.3"]
    assert count_calls(store, since=since, department="housing") == 3
    assert count_calls(store) == 9
    assert count_calls(store, line="no such line") == 0


def test_streamed_calls_cross_chunk_boundaries_unchanged(store: Store, monkeypatch):
    monkeypatch.setattr(store_module, "ITER_CHUNK_ROWS", 2)
    saved = calls_at_minutes(5)
    store.save_calls(saved)
    assert list(store.iter_calls()) == saved


def test_save_new_calls_keeps_a_stored_call_as_stored_and_counts_the_new(store: Store):
    live = call_record(call_id="a", ring_seconds=3.0)
    store.save_calls([live])
    imported = [call_record(call_id="a", ring_seconds=9.0), call_record(call_id="b")]
    assert store.save_new_calls(imported) == 1
    assert store.calls() == [live, call_record(call_id="b")]


def test_exported_rows_are_written_exactly_as_the_records_would_be(store: Store, monkeypatch):
    monkeypatch.setattr(call_listing, "EXPORT_CHUNK_ROWS", 1)
    unanswered = call_record(
        call_id="u", answered_at=None, ended_at=None, ring_seconds=None, rings=None
    )
    store.save_calls([call_record(), unanswered])
    names = [field.name for field in fields(CallRecord)]
    for output_format in ("csv", "json"):
        from_records, from_rows = io.StringIO(), io.StringIO()
        write_records(store.calls(), names, output_format, from_records)
        write_rows(call_rows(store), names, output_format, from_rows)
        assert from_rows.getvalue() == from_records.getvalue()
    assert "2025-03-03T09:03:00.000125+00:00" in from_rows.getvalue()
