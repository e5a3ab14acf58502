"""Calls from the public that matched no line: stored by (pbx, call_id), counted per
dialled number for `ringtest lines`; and read-only opening of a database that must exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ringtest.core.errors import StoreError
from ringtest.core.records import UnmatchedInboundCall
from ringtest.core.stream import InboundCallUnmatched
from ringtest.store import Store, schema
from ringtest.store.unmatched import UnmatchedNumber
from ringtest.store.writer import write_changes

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def unmatched(call_id: str, dialled: str, minutes: int) -> UnmatchedInboundCall:
    return UnmatchedInboundCall("pbx", call_id, dialled, MONDAY + timedelta(minutes=minutes))


def test_the_table_has_one_column_per_field_of_its_record() -> None:
    assert [c.name for c in schema.unmatched_inbound_calls.columns] == [
        "pbx",
        "call_id",
        "dialled",
        "started_at",
    ]


def test_unmatched_numbers_are_counted_per_number_most_called_first(store: Store) -> None:
    write_changes(
        store,
        [
            InboundCallUnmatched(unmatched("1", "441382999999", 0)),
            InboundCallUnmatched(unmatched("2", "441382999999", 30)),
            InboundCallUnmatched(unmatched("3", "01382888888", 10)),
            InboundCallUnmatched(unmatched("4", "01382777777", -600)),
        ],
    )
    store.save_unmatched_calls([unmatched("2", "441382999999", 30)])
    assert store.unmatched_numbers(MONDAY, MONDAY + timedelta(days=1)) == [
        UnmatchedNumber("441382999999", 2, MONDAY + timedelta(minutes=30)),
        UnmatchedNumber("01382888888", 1, MONDAY + timedelta(minutes=10)),
    ]


def test_a_read_only_open_of_a_missing_sqlite_file_is_one_line_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo" / "ringtset.db"
    with pytest.raises(StoreError) as raised:
        Store.open(f"sqlite:///{path}", create=False)
    assert str(raised.value) == (
        f"database sqlite:///{path} does not exist: check RINGTEST_DB or store.url for a "
        "typo (only listen, replay, run, campaign run, import-cdr, call and callbacks-wait "
        "create a new database)"
    )
    assert not path.parent.exists()


def test_a_read_only_open_of_a_database_without_ringtest_tables_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    (tmp_path / "ringtest.db").touch()
    with pytest.raises(StoreError, match=r"holds no ringtest data: check RINGTEST_DB"):
        Store.open(store_url, create=False)
    with Store.open(store_url) as created:
        assert created.created
    with Store.open(store_url, create=False) as existing:
        assert not existing.created
