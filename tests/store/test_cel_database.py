"""`import-cel` from the PBX's database: the lab run's CEL in real tables (SQLite, cel_pgsql's
on PostgreSQL, FreePBX's on MariaDB) gives the calls the lab's cel_custom file gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from ringtest.config import load_settings
from ringtest.core.errors import ReportError
from ringtest.core.observations import WHOLE_SECONDS, has_mark
from ringtest.sources.cel_database import (
    EVENT_TYPE_BY_NUMBER,
    TableClock,
    import_cel_database,
    table_clock,
)
from ringtest.sources.cel_import import import_cel
from ringtest.store import Store
from tests.analysis.conftest import LAB_CONFIG
from tests.store.history_tables import (
    CEL_PGSQL,
    FREEPBX_MARIADB,
    LAB_CEL,
    by_id,
    create_tables,
    lab_cel_rows,
    load_cel,
    same_but_precision,
)

SETTINGS = load_settings(LAB_CONFIG)


@pytest.fixture
def file_calls(tmp_path: Path) -> dict[str, object]:
    """The calls `import-cel` stores from the lab's cel_custom file."""
    with Store.open(f"sqlite:///{tmp_path / 'from-file.db'}") as store:
        import_cel(LAB_CEL, SETTINGS, store)
        return by_id(store.calls())


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def exact_cel_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A CEL table holding the lab run with its microseconds: SQLite, cel_pgsql's table on
    PostgreSQL, FreePBX's on MariaDB with eventtime widened to datetime(6)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
        create_tables(url, CEL_PGSQL)
    elif request.param == "postgresql":
        url = request.getfixturevalue("postgres_schema_url")
        create_tables(url, CEL_PGSQL)
    else:
        url = request.getfixturevalue("mariadb_database_url")
        create_tables(url, FREEPBX_MARIADB)
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE cel MODIFY eventtime datetime(6) NOT NULL")
        engine.dispose()
    load_cel(url, lab_cel_rows())
    return url


def test_a_cel_table_with_microseconds_gives_the_files_calls_exactly(
    exact_cel_url: str, file_calls: dict[str, object], tmp_path: Path
) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'from-table.db'}") as store:
        result = import_cel_database(exact_cel_url, SETTINGS, store)
        table_calls = by_id(store.calls())

    assert result.rows_read == 212
    assert result.bad_row_count == 0
    assert result.clock.startswith("UTC")
    assert table_calls.keys() == file_calls.keys()
    assert len(table_calls) == 12
    for call_id, call in table_calls.items():
        from_file = file_calls[call_id]
        assert dataclasses.replace(call, gap_note=from_file.gap_note) == from_file
        assert call.gap_note.startswith("imported from Asterisk CEL table cel, ")


@pytest.mark.mariadb
def test_freepbxs_stock_cel_table_gives_the_same_calls_to_the_second(
    mariadb_database_url: str, file_calls: dict[str, object], tmp_path: Path
) -> None:
    create_tables(mariadb_database_url, FREEPBX_MARIADB)
    load_cel(mariadb_database_url, lab_cel_rows())

    with Store.open(f"sqlite:///{tmp_path / 'from-table.db'}") as store:
        result = import_cel_database(mariadb_database_url, SETTINGS, store)
        table_calls = by_id(store.calls())

    assert result.clock.endswith(TableClock.WHOLE)
    assert table_calls.keys() == file_calls.keys()
    for call_id, call in table_calls.items():
        assert same_but_precision(call, file_calls[call_id], seconds=1.0), call_id
        assert has_mark(call.gap_note, WHOLE_SECONDS)
    assert any(
        call.ring_seconds != file_calls[call_id].ring_seconds
        for call_id, call in table_calls.items()
    ), "MariaDB's datetime keeps no fraction: some ring time must differ below a second"


def test_local_wall_times_are_read_as_local_when_the_uniqueids_say_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
    create_tables(url, CEL_PGSQL)
    new_york = ZoneInfo("America/New_York")
    load_cel(url, lab_cel_rows(), zone=new_york)
    settings = SETTINGS.model_copy(
        update={"calendar": SETTINGS.calendar.model_copy(update={"timezone": new_york.key})}
    )

    with Store.open(f"sqlite:///{tmp_path / 'from-table.db'}") as store:
        result = import_cel_database(url, settings, store)
        started = sorted(call.started_at for call in store.calls())

    assert result.clock == TableClock.SAID_LOCAL.format(zone="America/New_York")
    first_cel_instant = 1796380092.227504
    assert started[0].timestamp() == pytest.approx(first_cel_instant, abs=1e-6)


def test_the_clock_of_a_table_whose_uniqueids_say_nothing_is_assumed_utc() -> None:
    clock = table_clock([], ZoneInfo("Europe/London"), local=False)

    assert clock.words == TableClock.ASSUMED_UTC
    assert clock.zone == ZoneInfo("UTC")
    assert not clock.whole_seconds


def test_a_table_without_the_cel_columns_names_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE cel (eventtype text, eventtime text)")
    engine.dispose()

    with (
        Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store,
        pytest.raises(ReportError) as raised,
    ):
        import_cel_database(url, SETTINGS, store)

    assert str(raised.value) == (
        f"CEL database {url} table 'cel' has no cid_num, exten, context, channame, appname, "
        "appdata, uniqueid, linkedid, extra column: give the cel table of cel_odbc or "
        "cel_pgsql with --table"
    )


def test_an_integer_eventtype_column_is_read_by_asterisks_numbers(
    tmp_path: Path, file_calls: dict[str, object]
) -> None:
    url = f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
    numbered = tmp_path / "cel_numbered.sql"
    numbered.write_text(CEL_PGSQL.read_text().replace("eventtype varchar(30)", "eventtype integer"))
    create_tables(url, numbered)
    number_of = {name: int(number) for number, name in EVENT_TYPE_BY_NUMBER.items()}
    rows = [[str(number_of[fields[0]]), *fields[1:]] for fields in lab_cel_rows()]
    load_cel(url, rows)

    with Store.open(f"sqlite:///{tmp_path / 'from-table.db'}") as store:
        import_cel_database(url, SETTINGS, store)
        table_calls = by_id(store.calls())

    assert table_calls.keys() == file_calls.keys()
    assert all(
        call.ring_seconds == file_calls[call_id].ring_seconds
        for call_id, call in table_calls.items()
    )
