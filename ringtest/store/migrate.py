"""Bringing a database's schema to this ringtest's: create it, refuse it, or upgrade it.

Alembic keeps the schema's revision in `alembic_version`; the revisions are in
`migrations/versions/`, one per schema change, and their head is the schema of
`ringtest.store.schema`. A database is in one of four states when it is opened:

* without ringtest's tables: its tables are created at the head revision;
* at the head revision: it is used as it is;
* at an older revision: opening it is refused, naming `ringtest db upgrade`, unless
  the opener upgrades (`ringtest db upgrade` and the daemons `listen` and `run`).
  An SQLite file is first copied to a backup next to it, made 0600;
* at a revision this ringtest does not know: it was written by a newer ringtest,
  and opening it is refused.

A database written before Alembic has no `alembic_version`; its `schema_version`
row (and, for version 2, whether it has the coverage tables) names the revision it
is at (`PRE_ALEMBIC_REVISIONS`), and it is stamped with that revision first.

Creating and upgrading run in one transaction that first takes the database's
write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so two daemons
started together upgrade once. On SQLite, foreign keys are off while it runs
(Alembic rebuilds a table to change a column) and checked before it commits.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, inspect, select, text
from sqlalchemy.engine import URL

from ringtest.core.errors import SchemaVersionMismatch, StoreError
from ringtest.core.private_files import create_private_file, make_private
from ringtest.store import database, schema

logger = logging.getLogger(__name__)

MIGRATIONS_DIRECTORY = Path(__file__).with_name("migrations")

PRE_ALEMBIC_REVISIONS: dict[tuple[int, bool], str] = {
    (1, False): "0001",
    (2, False): "0002",
    (2, True): "0003",
}
"""(`schema_version` row, has the `coverage_gaps` table) of a database written before
Alembic -> the revision its schema is."""

POSTGRES_UPGRADE_LOCK_KEY = 0x72696E67
"""The advisory lock two ringtest processes take to create or upgrade one PostgreSQL
database one at a time ("ring")."""


@dataclass(frozen=True)
class SchemaChange:
    """What opening a database did to its schema.

    from_revision: the revision it was at; None when it had no ringtest tables.
    backup_path: the SQLite file's copy taken before upgrading it; None when nothing
    was upgraded or the database is not an SQLite file.
    """

    from_revision: str | None
    to_revision: str
    backup_path: Path | None = None


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for ringtest's revisions, migrating `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision: the schema of `ringtest.store.schema`."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no revisions in {MIGRATIONS_DIRECTORY}"
    return head


def bring_to_head(
    url: URL, engine: Engine, url_display: str, *, create: bool = True, upgrade: bool
) -> SchemaChange | None:
    """Make the database at `url` usable by this ringtest, or raise SchemaVersionMismatch.

    Returns what changed, None when it was already at the head revision. Without
    `create`, a database with no ringtest tables is refused (StoreError: a read
    command named the wrong database). With `upgrade` False an older database is
    refused; with True it is backed up (an SQLite file) and upgraded.
    """
    with database.database_errors("opening database", url_display), engine.connect() as found:
        revision = stored_revision(found, url_display)
    if revision == head_revision():
        return None
    if revision is None and not create:
        raise StoreError(database.missing_database_message(url_display, "holds no ringtest data"))
    if revision is not None:
        _refuse_unless_upgradable(revision, url_display, upgrade)
    backup_path = _backup_sqlite_file(url, url_display) if revision is not None else None
    revision = _migrate(url, url_display)
    if revision == head_revision():
        return None
    change = SchemaChange(revision, head_revision(), backup_path)
    _log(change, url_display)
    return change


def stored_revision(connection: Connection, url_display: str) -> str | None:
    """The database's revision: Alembic's stamp, else the revision its pre-Alembic
    `schema_version` row names, else None (no ringtest tables)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if heads:
        return heads[0]
    tables = set(inspect(connection).get_table_names())
    if schema.schema_version.name not in tables:
        return None
    version = connection.execute(select(schema.schema_version.c.version)).scalar() or 0
    revision = PRE_ALEMBIC_REVISIONS.get((version, schema.coverage_gaps.name in tables))
    if revision is None:
        raise SchemaVersionMismatch(
            f"database {url_display} has schema version {version} and no Alembic revision, "
            f"which no ringtest writes: set {database.URL_ENV_VAR} to a ringtest database"
        )
    return revision


def _refuse_unless_upgradable(revision: str, url_display: str, upgrade: bool) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    if revision not in {known.revision for known in script.walk_revisions()}:
        raise SchemaVersionMismatch(
            f"database {url_display} is at schema revision {revision}, which this ringtest "
            f"does not know (its newest is {head}): upgrade ringtest, or set "
            f"{database.URL_ENV_VAR} to another database"
        )
    if not upgrade:
        raise SchemaVersionMismatch(
            f"database {url_display} is at schema revision {revision}, older than this "
            f"ringtest's {head}: run `ringtest db upgrade` (it copies an SQLite file to a "
            "backup first)"
        )


def _backup_sqlite_file(url: URL, url_display: str) -> Path | None:
    """Copy the SQLite file (its WAL included) to `NAME.YYYYMMDDTHHMMSSZ.bak` beside it,
    mode 0600; None for PostgreSQL or an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    source = Path(url.database or "")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup_path = source.with_name(f"{source.name}.{stamp}.bak")
    try:
        create_private_file(backup_path)
        make_private(backup_path)
        with (
            closing(sqlite3.connect(source)) as original,
            closing(sqlite3.connect(backup_path)) as copy,
        ):
            original.backup(copy)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(
            f"upgrading database {url_display} failed: copying it to {backup_path} first "
            f"failed ({error}): free space or make {source.parent} writable (nothing was changed)"
        ) from None
    return backup_path


def _migrate(url: URL, url_display: str) -> str | None:
    """Create or upgrade the schema in one locked transaction; returns the revision found
    once the lock was held (another process may have created or upgraded it meanwhile)."""
    engine = _migration_engine(url)
    try:
        with (
            database.database_errors("upgrading database", url_display),
            engine.begin() as connection,
        ):
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_UPGRADE_LOCK_KEY}
                )
            revision = stored_revision(connection, url_display)
            if revision is None:
                _create_at_head(connection)
            elif revision != head_revision():
                _upgrade(connection, revision)
            _check_foreign_keys(connection, url_display)
    finally:
        engine.dispose()
    return revision


def _migration_engine(url: URL) -> Engine:
    """The store's engine for `url`; on SQLite with foreign keys off and transactions
    begun by ringtest (BEGIN IMMEDIATE), so that the DDL is inside them."""
    engine = database.create_store_engine(url)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_for_migrating)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _sqlite_for_migrating(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys = OFF")


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create_at_head(connection: Connection) -> None:
    schema.metadata.create_all(connection)
    connection.execute(schema.schema_version.insert().values(id=1, version=schema.SCHEMA_VERSION))
    _stamp(connection, head_revision())


def _upgrade(connection: Connection, revision: str) -> None:
    if not MigrationContext.configure(connection).get_current_heads():
        _stamp(connection, revision)
    command.upgrade(alembic_config(connection), "head")


def _stamp(connection: Connection, revision: str) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    MigrationContext.configure(connection).stamp(script, revision)


def _check_foreign_keys(connection: Connection, url_display: str) -> None:
    """On SQLite, refuse to commit rows whose foreign key points nowhere (the checks were
    off while tables were rebuilt); PostgreSQL checked every statement."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(
            f"upgrading database {url_display} failed: {len(broken)} rows of "
            f"{broken[0][0]} name a row that does not exist (nothing was changed): "
            "restore the database from a backup"
        )


def _log(change: SchemaChange, url_display: str) -> None:
    if change.from_revision is None:
        logger.info("created ringtest schema revision %s in %s", change.to_revision, url_display)
        return
    kept = f"; the file as it was is kept at {change.backup_path}" if change.backup_path else ""
    logger.warning(
        "upgraded database %s from schema revision %s to %s%s",
        url_display,
        change.from_revision,
        change.to_revision,
        kept,
    )
