"""The store contract suite runs every test against two real databases.

`store_url` is parametrized over SQLite (a file in tmp_path) and PostgreSQL (a
fresh schema per test in the cluster from $RINGTEST_TEST_PG_URL, else the one
scripts/postgres-up starts). PostgreSQL sessions run in America/New_York so that
converting its instants back to UTC is exercised. If PostgreSQL cannot be had,
the PostgreSQL tests fail, they are never skipped.

The CDR/CEL database imports also read a real MariaDB (FreePBX's database):
`mariadb_database_url` is a fresh database on the server from
$RINGTEST_TEST_MARIADB_URL, else the one scripts/mariadb-up starts; if it cannot be
had, those tests fail too.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ringtest.store import Store

REPO = Path(__file__).resolve().parents[2]
PG_URL_ENV_VAR = "RINGTEST_TEST_PG_URL"
POSTGRES_UP = REPO / "scripts" / "postgres-up"
POSTGRES_SESSION_TIME_ZONE = "America/New_York"
MARIADB_URL_ENV_VAR = "RINGTEST_TEST_MARIADB_URL"
MARIADB_UP = REPO / "scripts" / "mariadb-up"


def _server_url(env_var: str, script: Path, server: str) -> str:
    """$`env_var`, else the URL `script` prints once it started the server; the test
    fails (never skips) when neither gives one."""
    if url := os.environ.get(env_var):
        return url
    try:
        started = subprocess.run(
            [str(script)], capture_output=True, text=True, timeout=600, check=False
        )
    except OSError as error:
        pytest.fail(f"cannot run {script}: {error}; set {env_var}", pytrace=False)
    url_line = started.stdout.strip().splitlines()[-1:] if started.returncode == 0 else []
    if not url_line:
        stderr_tail = " | ".join(started.stderr.strip().splitlines()[-3:])
        pytest.fail(
            f"{server} for the store tests is unavailable: {script} exited "
            f"{started.returncode} ({stderr_tail}); run it as root or set {env_var}",
            pytrace=False,
        )
    return url_line[0]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a PostgreSQL database the tests may create schemas in."""
    return _server_url(PG_URL_ENV_VAR, POSTGRES_UP, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """The URL of a MariaDB server's database whose login may create databases."""
    return _server_url(MARIADB_URL_ENV_VAR, MARIADB_UP, "MariaDB")


@pytest.fixture
def mariadb_database_url(mariadb_url: str) -> Iterator[str]:
    """A URL of a new, empty MariaDB database (``asteriskcdrdb_<hex>``), dropped after the
    test. The server must answer: when it does not, the test fails."""
    name = f"asteriskcdrdb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(mariadb_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE DATABASE `{name}`"))
        yield make_url(mariadb_url).set(database=name).render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE `{name}`"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_schema_url(postgres_url: str, postgres_admin: Engine) -> Iterator[str]:
    """A URL whose sessions see only a new, empty schema, dropped after the test."""
    schema_name = f"store_test_{uuid.uuid4().hex}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    options = f"-csearch_path={schema_name} -ctimezone={POSTGRES_SESSION_TIME_ZONE}"
    url = make_url(postgres_url).update_query_dict({"options": options})
    yield url.render_as_string(hide_password=False)
    with postgres_admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ringtest.db'}"
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened
