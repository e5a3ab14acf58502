"""FreePBX's own database on a real MariaDB: `import-cdr URL` and `import-cel URL` give the
calls the lab's files give, `--since last` adds only what is new, and a bad database is
one line. (cdr_pgsql's layout on PostgreSQL too.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ringtest.sources.history_tables import url_for_display
from ringtest.store import Store
from tests.store.history_tables import (
    CDR_PGSQL,
    FREEPBX_MARIADB,
    LAB_CDR,
    LAB_CEL,
    by_id,
    create_tables,
    import_cli,
    lab_cel_rows,
    load_cdr,
    load_cel,
    same_but_precision,
)

pytestmark = pytest.mark.mariadb


@pytest.fixture
def freepbx_url(mariadb_database_url: str) -> str:
    """FreePBX's empty asteriskcdrdb cdr and cel tables on MariaDB."""
    create_tables(mariadb_database_url, FREEPBX_MARIADB)
    return mariadb_database_url


def stored_calls(store_url: str) -> dict[str, object]:
    with Store.open(store_url) as store:
        return by_id(store.calls())


def test_import_cdr_from_freepbxs_table_gives_the_files_calls(
    freepbx_url: str, tmp_path: Path
) -> None:
    load_cdr(freepbx_url)
    from_table, from_file = f"sqlite:///{tmp_path / 't.db'}", f"sqlite:///{tmp_path / 'f.db'}"

    table_run = import_cli("import-cdr", freepbx_url, from_table)
    file_run = import_cli("import-cdr", str(LAB_CDR), from_file)

    assert table_run.returncode == 0, table_run.stderr
    assert file_run.returncode == 0, file_run.stderr
    assert table_run.stdout.startswith(
        f"read 21 rows from {url_for_display(freepbx_url)} table cdr: imported 12 calls"
    )
    table_calls, file_calls = stored_calls(from_table), stored_calls(from_file)
    assert table_calls.keys() == file_calls.keys()
    for call_id, call in table_calls.items():
        assert same_but_precision(call, file_calls[call_id], seconds=1.0), call_id
    password = make_url(freepbx_url).password
    assert password not in table_run.stdout + table_run.stderr


def test_import_cel_from_freepbxs_table_gives_the_files_calls(
    freepbx_url: str, tmp_path: Path
) -> None:
    load_cel(freepbx_url, lab_cel_rows())
    from_table, from_file = f"sqlite:///{tmp_path / 't.db'}", f"sqlite:///{tmp_path / 'f.db'}"

    table_run = import_cli("import-cel", freepbx_url, from_table)
    file_run = import_cli("import-cel", str(LAB_CEL), from_file)

    assert table_run.returncode == 0, table_run.stderr
    assert file_run.returncode == 0, file_run.stderr
    assert table_run.stdout.startswith(
        f"read 212 rows from {url_for_display(freepbx_url)} table cel: imported 12 calls"
    )
    assert "whole seconds" in table_run.stdout
    table_calls, file_calls = stored_calls(from_table), stored_calls(from_file)
    assert table_calls.keys() == file_calls.keys()
    for call_id, call in table_calls.items():
        assert same_but_precision(call, file_calls[call_id], seconds=1.0), call_id


def test_since_last_adds_only_the_new_calls_and_waits_for_those_in_progress(
    freepbx_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    first_run, second_run, third_run = lab_cel_rows(0), lab_cel_rows(1), lab_cel_rows(2)
    load_cel(freepbx_url, first_run + second_run[:100])

    first = import_cli("import-cel", freepbx_url, store_url, "--since", "last")
    calls_after_first = stored_calls(store_url)
    load_cel(freepbx_url, second_run[100:] + third_run)
    second = import_cli("import-cel", freepbx_url, store_url, "--since", "last")
    calls_after_second = stored_calls(store_url)
    again = import_cli("import-cel", freepbx_url, store_url, "--since", "last")

    assert first.returncode == 0, first.stderr
    in_progress = re.search(r"(\d+) still in progress", first.stdout)
    assert in_progress is not None and int(in_progress[1]) > 0
    assert 12 < len(calls_after_first) < 24
    assert len(calls_after_second) == 36
    assert calls_after_first.items() <= calls_after_second.items()
    assert f"imported {36 - len(calls_after_first)} calls" in second.stdout
    rows_read = int(second.stdout.split()[1])
    assert rows_read < 3 * 212, "the second import must not read the first run again"
    assert "imported 0 calls" in again.stdout
    assert again.returncode == 0
    assert len(stored_calls(store_url)) == 36


def test_since_last_on_the_cdr_table_never_stores_a_call_twice(
    freepbx_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    load_cdr(freepbx_url)

    first = import_cli("import-cdr", freepbx_url, store_url, "--since", "last")
    load_cdr(freepbx_url, hours_later=3)
    second = import_cli("import-cdr", freepbx_url, store_url, "--since", "last")

    assert "imported 12 calls" in first.stdout, first.stderr
    assert "imported 12 calls" in second.stdout, second.stderr
    assert len(stored_calls(store_url)) == 24


@pytest.mark.parametrize("command", ["import-cdr", "import-cel"])
def test_a_refused_login_is_one_line_without_the_password(
    command: str, freepbx_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    Store.open(store_url).close()
    url = make_url(freepbx_url).set(password="wrong-s3cret").render_as_string(False)

    run = import_cli(command, url, store_url)

    kind, table = ("CDR", "cdr") if command == "import-cdr" else ("CEL", "cel")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"ringtest: {kind} database {url_for_display(url)} table '{table}' cannot be read "
        "(OperationalError): check the server is up, the login and its permission to read "
        "the table"
    ]


def test_a_missing_cel_table_is_one_line_naming_it(freepbx_url: str, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    Store.open(store_url).close()

    run = import_cli("import-cel", freepbx_url, store_url, "--table", "cel_archive")

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"ringtest: CEL database {url_for_display(freepbx_url)} table 'cel_archive' does not "
        "exist: give the CEL table with --table"
    ]


def test_the_cdr_table_given_as_cel_is_one_line_naming_the_missing_columns(
    freepbx_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    Store.open(store_url).close()

    run = import_cli("import-cel", freepbx_url, store_url, "--table", "cdr")

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"ringtest: CEL database {url_for_display(freepbx_url)} table 'cdr' has no eventtype, "
        "eventtime, cid_num, exten, context, channame, appname, appdata, extra column: give "
        "the cel table of cel_odbc or cel_pgsql with --table"
    ]


@pytest.mark.postgres
def test_import_cdr_reads_cdr_pgsqls_own_layout(postgres_schema_url: str, tmp_path: Path) -> None:
    create_tables(postgres_schema_url, CDR_PGSQL)
    load_cdr(postgres_schema_url)
    from_table, from_file = f"sqlite:///{tmp_path / 't.db'}", f"sqlite:///{tmp_path / 'f.db'}"

    table_run = import_cli("import-cdr", postgres_schema_url, from_table)
    import_cli("import-cdr", str(LAB_CDR), from_file)

    assert table_run.returncode == 0, table_run.stderr
    table_calls, file_calls = stored_calls(from_table), stored_calls(from_file)
    assert table_calls.keys() == file_calls.keys()
    assert len(table_calls) == 12
    for call_id, call in table_calls.items():
        assert same_but_precision(call, file_calls[call_id], seconds=1.0), call_id
