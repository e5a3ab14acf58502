"""Opening a store: where it is, and one-line errors for every failure."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from ringtest.core.errors import StoreError
from ringtest.core.records import (
    CallbackObligation,
    CallRecord,
    Campaign,
    CoverageGap,
    RingTestResult,
    RunSlot,
)
from ringtest.store import Store, schema
from tests.store.builders import call_record

NOBODY_UID = 65534


@pytest.mark.parametrize(
    ("table", "record_class"),
    [
        (schema.calls, CallRecord),
        (schema.ring_tests, RingTestResult),
        (schema.callback_obligations, CallbackObligation),
        (schema.campaigns, Campaign),
        (schema.campaign_runs, RunSlot),
        (schema.coverage_gaps, CoverageGap),
    ],
)
def test_each_record_table_has_exactly_one_column_per_record_field(table, record_class):
    assert [column.name for column in table.columns] == [
        field.name for field in fields(record_class)
    ]


def test_reopening_a_store_keeps_its_rows(store_url: str):
    with Store.open(store_url) as first:
        first.save_calls([call_record()])

    with Store.open(store_url) as reopened:
        assert reopened.calls() == [call_record()]


@pytest.mark.postgres
def test_display_url_hides_the_password(postgres_schema_url: str):
    password = make_url(postgres_schema_url).password

    with Store.open(postgres_schema_url) as store:
        shown_url = store.url_for_display

    assert password
    assert password not in shown_url
    assert shown_url.startswith("postgresql+psycopg://ringtest:***@127.0.0.1:")


def test_full_disk_is_reported_and_earlier_rows_survive(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        kept = [call_record(call_id=f"kept-{number}") for number in range(10)]
        store.save_calls(kept)
        with store.engine.connect() as connection:
            pages_now = connection.execute(text("PRAGMA page_count")).scalar_one()

        def cap_the_file_at_its_size(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages_now}")

        event.listen(store.engine, "connect", cap_the_file_at_its_size)
        store.engine.dispose()
        too_many = [
            call_record(call_id=f"new-{number}", gap_note="x" * 500) for number in range(500)
        ]

        with pytest.raises(StoreError) as raised:
            store.save_calls(too_many)

        assert str(raised.value) == (
            f"writing to database sqlite:///{tmp_path / 'ringtest.db'} failed: the disk is full: "
            "free space on its disk (rows stored before this write are intact)"
        )
        assert store.calls() == kept


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.postgres
def test_postgresql_that_does_not_listen_is_reported_with_the_password_hidden():
    port = _free_port()

    with pytest.raises(StoreError) as raised:
        Store.open(f"postgresql+psycopg://ringtest:s3cret@127.0.0.1:{port}/ringtest_test")

    assert str(raised.value) == (
        f"opening database postgresql+psycopg://ringtest:***@127.0.0.1:{port}/ringtest_test "
        "failed: nothing accepts connections there: start PostgreSQL (as root: "
        "scripts/postgres-up) or set RINGTEST_DB to a running server"
    )


@pytest.mark.postgres
def test_postgresql_refusing_the_password_is_reported(postgres_url: str):
    wrong = make_url(postgres_url).set(password="not-the-password")

    with pytest.raises(StoreError) as raised:
        Store.open(wrong.render_as_string(hide_password=False))

    assert str(raised.value) == (
        f"opening database {wrong.render_as_string(hide_password=True)} failed: "
        "the server refused the user or password: fix the user and password in RINGTEST_DB"
    )


@pytest.mark.postgres
def test_postgresql_url_without_a_driver_uses_psycopg(postgres_schema_url: str):
    plain = make_url(postgres_schema_url).set(drivername="postgresql")

    with Store.open(plain.render_as_string(hide_password=False)) as store:
        store.save_calls([call_record()])

        assert store.url_for_display.startswith("postgresql+psycopg://ringtest:***@")
        assert store.calls() == [call_record()]


@contextlib.contextmanager
def _unprivileged() -> Iterator[None]:
    """Run the block without root's power to write anywhere (a no-op for other users)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY_UID)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def read_only_directory() -> Iterator[Path]:
    """A directory nobody but root may write, in a parent anyone may enter."""
    parent = Path(tempfile.mkdtemp(prefix="ringtest-store-"))
    parent.chmod(0o755)
    directory = parent / "read-only"
    directory.mkdir(mode=0o555)
    yield directory
    shutil.rmtree(parent)


def test_sqlite_in_a_read_only_directory_is_reported(read_only_directory: Path):
    database_path = read_only_directory / "ringtest.db"

    with _unprivileged(), pytest.raises(StoreError) as raised:
        Store.open(f"sqlite:///{database_path}")

    assert str(raised.value) == (
        f"opening database sqlite:///{database_path} failed: the file cannot be created or "
        "opened: make its directory writable or set RINGTEST_DB to a writable path"
    )


def test_sqlite_directory_that_cannot_be_created_is_reported(read_only_directory: Path):
    database_path = read_only_directory / "data" / "ringtest.db"

    with _unprivileged(), pytest.raises(StoreError) as raised:
        Store.open(f"sqlite:///{database_path}")

    assert str(raised.value) == (
        f"opening database sqlite:///{database_path} failed: cannot create directory "
        f"{read_only_directory / 'data'} (Permission denied): make it writable or set "
        "RINGTEST_DB to a writable path"
    )


def test_file_that_is_not_a_database_is_reported(tmp_path: Path):
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("shopping list: milk, eggs, a PBX\n" * 200)

    with pytest.raises(StoreError) as raised:
        Store.open(f"sqlite:///{not_a_database}")

    assert str(raised.value) == (
        f"opening database sqlite:///{not_a_database} failed: the file is not an SQLite "
        "database: set RINGTEST_DB to a ringtest database file"
    )


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path):
    with (
        Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store,
        store.engine.connect() as connection,
    ):
        settings = [
            connection.execute(text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        ]

    assert settings == ["wal", 1, 5000]


def test_open_without_a_url_uses_ringtest_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RINGTEST_DB", f"sqlite:///{tmp_path / 'from-env.db'}")

    with Store.open() as store:
        store.save_calls([call_record()])

    assert store.url_for_display == f"sqlite:///{tmp_path / 'from-env.db'}"
    assert (tmp_path / "from-env.db").is_file()


def test_open_without_url_or_ringtest_db_creates_the_user_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("RINGTEST_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))

    with Store.open() as store:
        store.save_calls([call_record()])

    expected = tmp_path / "data-home" / "ringtest" / "ringtest.db"
    assert store.url_for_display == f"sqlite:///{expected}"
    assert expected.is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "calls.db",
            "database URL 'calls.db' is not a URL: set RINGTEST_DB to a sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB URL",
        ),
        (
            "mysql://ringtest:s3cret@db.example/ringtest",
            "database mysql://ringtest:***@db.example/ringtest uses mysql, which ringtest does "
            "not support: set RINGTEST_DB to a sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB URL",
        ),
        (
            "nonsense://",
            "database nonsense:// uses nonsense, which ringtest does not support: set RINGTEST_DB "
            "to a sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB URL",
        ),
        (
            "postgresql://user:pa:ss@host:notaport/db",
            "database URL 'postgresql://user:***@host:notaport/db' has a port that is not a "
            "number from 1 to 65535: fix the port in RINGTEST_DB (or store.url), e.g. "
            "postgresql+psycopg://USER:PASSWORD@localhost:5432/DB",
        ),
        (
            "postgresql://ringtest:s3cret@db.example:99999/ringtest",
            "database URL 'postgresql://ringtest:***@db.example:99999/ringtest' has a port that "
            "is not a number from 1 to 65535: fix the port in RINGTEST_DB (or store.url), e.g. "
            "postgresql+psycopg://USER:PASSWORD@localhost:5432/DB",
        ),
        (
            "postgresql://ringtest:s3c@ret@db.example/ringtest",
            "database URL 'postgresql://ringtest:***@db.example/ringtest' has an '@' in its "
            "password or host: write '@' in the password as %40 in RINGTEST_DB (or store.url)",
        ),
    ],
)
def test_url_ringtest_cannot_use_is_refused_in_one_line(url: str, message: str):
    with pytest.raises(StoreError) as raised:
        Store.open(url)

    assert str(raised.value) == message
