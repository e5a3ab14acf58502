"""CDR rows read from real database tables (SQLite, PostgreSQL) in FreePBX's layout."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from ringtest.core.errors import ReportError
from ringtest.sources.cdr_database import cdr_fields, url_for_display
from ringtest.sources.cdr_rows import CdrRow, parse_rows
from tests.analysis.conftest import LAB_CONFIG

SCHEMA = Path(__file__).parents[1] / "fixtures" / "cdr_db" / "freepbx_cdr.sql"
ROWS = [
    {
        "calldate": datetime(2026, 3, 2, 9, 0, 5),
        "src": "07700900002",
        "dst": "2001",
        "dstchannel": "PJSIP/2001-00000002",
        "lastapp": "Dial",
        "lastdata": "PJSIP/2001,30",
        "duration": 20,
        "billsec": 12,
        "disposition": "ANSWERED",
        "uniqueid": "1772442005.2",
        "linkedid": "1772442005.2",
    },
    {
        "calldate": datetime(2026, 3, 2, 9, 0, 1),
        "src": "07700900001",
        "dst": "2001",
        "dstchannel": "PJSIP/2001-00000001",
        "lastapp": "Dial",
        "lastdata": "PJSIP/2001,30",
        "duration": 30,
        "billsec": 0,
        "disposition": "NO ANSWER",
        "uniqueid": "1772442001.1",
        "linkedid": "1772442001.1",
    },
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """FreePBX's cdr table holding `ROWS`, in SQLite or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(SCHEMA.read_text())
        table = sqlalchemy.table("cdr", *(sqlalchemy.column(name) for name in ROWS[0]))
        connection.execute(sqlalchemy.insert(table), ROWS)
    engine.dispose()
    return url


def test_rows_are_read_oldest_first_as_the_file_reader_reads_them(database_url: str) -> None:
    rows = list(parse_rows(cdr_fields(database_url)))

    assert all(isinstance(row, CdrRow) for row in rows)
    assert [row.call_key for row in rows] == ["1772442001.1", "1772442005.2"]
    answered = rows[1]
    assert answered.start == datetime(2026, 3, 2, 9, 0, 5)
    assert answered.end == datetime(2026, 3, 2, 9, 0, 25)
    assert answered.answer == datetime(2026, 3, 2, 9, 0, 13)
    assert rows[0].answer is None


def test_a_missing_table_names_the_table_and_the_option(database_url: str) -> None:
    with pytest.raises(ReportError, match=r"table 'calls' does not exist.*--table"):
        list(cdr_fields(database_url, "calls"))


def test_a_table_without_the_cdr_columns_names_them(database_url: str) -> None:
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE cel (eventtime timestamp, eventtype text)")
    engine.dispose()

    with pytest.raises(ReportError, match=r"table 'cel' has no calldate, src.*column"):
        list(cdr_fields(database_url, "cel"))


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql+psycopg://ringtest:s3cret@127.0.0.1:1/asteriskcdrdb"

    with pytest.raises(ReportError) as raised:
        list(cdr_fields(url))

    message = str(raised.value)
    assert "s3cret" not in message
    assert "127.0.0.1:1/asteriskcdrdb" in message
    assert "\n" not in message
    assert "s3cret" not in url_for_display(url)


def import_cdr_cli(source: str, store_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-cdr", source],
        capture_output=True, text=True, env={"RINGTEST_DB": store_url},
    )  # fmt: skip


def test_import_cdr_takes_a_database_url_and_never_stores_a_call_twice(
    database_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"

    first = import_cdr_cli(database_url, store_url)
    again = import_cdr_cli(database_url, store_url)

    shown = url_for_display(database_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"read 2 rows from {shown} table cdr: imported 2 calls; 0 already stored"
    )
    assert again.stdout.startswith(
        f"read 2 rows from {shown} table cdr: imported 0 calls; 2 already stored"
    )
    password = make_url(database_url).password
    assert not password or password not in first.stdout + first.stderr


@pytest.mark.postgres
def test_a_refused_login_is_one_line_naming_the_database(postgres_url: str) -> None:
    url = make_url(postgres_url).set(password="wrong-s3cret").render_as_string(False)

    with pytest.raises(ReportError) as raised:
        list(cdr_fields(url))

    message = str(raised.value)
    assert message.startswith(f"CDR database {url_for_display(url)} table 'cdr' cannot be read")
    assert "the login" in message
    assert "wrong-s3cret" not in message
