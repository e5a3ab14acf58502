"""Upgrading a stored database keeps its history: Alembic's revisions on SQLite and PostgreSQL.

A schema-version-1 database is built from the DDL ringtest's first schema
compiled (tests/fixtures/store/), with rows written the way that ringtest wrote
them; it is upgraded and every row is read back through today's Store.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from ringtest.core.errors import SchemaVersionMismatch
from ringtest.core.records import CallbackTest, CoverageGap, GapReason, RunStatus
from ringtest.store import Store, migrate, schema
from tests.store.builders import MONDAY_9AM, campaign, obligation, ring_test_result
from tests.store.schema_v1 import (
    RING_TEST_COLUMNS_ADDED_IN_0010,
    V1_CALLS,
    V1_RUN,
    write_schema_version_1,
)

HEAD = migrate.head_revision()


def schema_differences(engine: Engine) -> list:
    """What Alembic's autogenerate finds between the database and `schema.metadata`."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, schema.metadata)


def test_a_schema_version_1_database_is_refused_until_upgraded_naming_the_command(
    store_url: str,
):
    write_schema_version_1(store_url)

    with pytest.raises(SchemaVersionMismatch) as raised:
        Store.open(store_url)

    shown = make_url(store_url).render_as_string(hide_password=True)
    assert str(raised.value) == (
        f"database {shown} is at schema revision 0001, older than this ringtest's {HEAD}: "
        "run `ringtest db upgrade` (it copies an SQLite file to a backup first)"
    )


def test_upgrading_a_schema_version_1_database_keeps_every_row(store_url: str):
    write_schema_version_1(store_url)

    with Store.open(store_url, upgrade=True) as store:
        assert store.schema_change is not None
        assert (store.schema_change.from_revision, store.schema_change.to_revision) == (
            "0001",
            HEAD,
        )
        assert store.calls() == V1_CALLS
        assert store.ring_tests() == [ring_test_result()]
        assert store.obligations() == [obligation()]
        assert store.campaigns() == [campaign(definition="")]
        assert store.runs() == [V1_RUN]
        differences = schema_differences(store.engine)

    assert differences == []


def test_an_upgraded_database_stores_what_the_new_tables_hold(store_url: str):
    write_schema_version_1(store_url)
    gap = CoverageGap(
        pbx="town-hall",
        started_at=MONDAY_9AM,
        ended_at=MONDAY_9AM + timedelta(minutes=5),
        reason=GapReason.LISTENER_DOWN,
    )
    callback_test = CallbackTest(
        test_id="rt-0002",
        account="tester-1",
        target="+441632960100",
        department="reception",
        callback_number="+441632960900",
        reference="R2",
        left_at=MONDAY_9AM,
        deadline_at=MONDAY_9AM + timedelta(days=1),
    )
    started = replace(V1_RUN, status=RunStatus.PLACED, callback=True, started_at=MONDAY_9AM)

    with Store.open(store_url, upgrade=True) as store:
        store.save_gaps([gap])
        store.save_callback_test(callback_test)
        store.plan_runs([replace(started, target="+441632960101")])

    with Store.open(store_url) as reopened:
        assert reopened.schema_change is None
        assert reopened.gaps() == [gap]
        assert reopened.callback_tests() == [callback_test]
        assert [run.target for run in reopened.runs()] == ["+441632960100", "+441632960101"]


def test_the_sqlite_file_is_copied_to_a_private_backup_before_the_upgrade(tmp_path: Path):
    database = tmp_path / "ringtest.db"
    write_schema_version_1(f"sqlite:///{database}")

    with Store.open(f"sqlite:///{database}", upgrade=True) as store:
        backup = store.schema_change.backup_path

    assert backup is not None
    assert backup.parent == tmp_path
    assert backup.name.startswith("ringtest.db.") and backup.name.endswith("Z.bak")
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    copy = create_engine(f"sqlite:///{backup}")
    with copy.connect() as connection:
        assert connection.execute(select(schema.schema_version.c.version)).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM calls")).scalar() == len(V1_CALLS)
        assert not inspect(connection).has_table("alembic_version")
    copy.dispose()


def test_the_upgrade_log_line_names_both_revisions_and_the_backup(tmp_path: Path, caplog):
    database = tmp_path / "ringtest.db"
    write_schema_version_1(f"sqlite:///{database}")

    with Store.open(f"sqlite:///{database}", upgrade=True) as store:
        backup = store.schema_change.backup_path

    assert [
        record.getMessage() for record in caplog.records if record.name.startswith("ringtest")
    ] == [
        f"upgraded database sqlite:///{database} from schema revision 0001 to {HEAD}; "
        f"the file as it was is kept at {backup}"
    ]


@pytest.mark.parametrize(("coverage_tables", "stamped_as"), [(False, "0002"), (True, "0003")])
def test_a_version_2_database_from_before_alembic_is_upgraded_from_its_revision(
    store_url: str, coverage_tables: bool, stamped_as: str
):
    with Store.open(store_url) as store:
        store.save_calls(V1_CALLS)
    with Store.open(store_url) as store, store.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("DROP TABLE unmatched_inbound_calls"))
        connection.execute(text("DROP TABLE gap_fills"))  # these three added after Alembic
        connection.execute(text("DROP TABLE import_watermarks"))
        connection.execute(text("DROP TABLE greeting_audits"))
        for column in RING_TEST_COLUMNS_ADDED_IN_0010:  # and these columns
            connection.execute(text(f"ALTER TABLE ring_tests DROP COLUMN {column}"))
        connection.execute(schema.schema_version.update().values(version=2))
        if not coverage_tables:
            connection.execute(text("DROP TABLE coverage_gaps"))
            connection.execute(text("DROP TABLE listener_state"))

    with Store.open(store_url, upgrade=True) as upgraded:
        assert upgraded.schema_change.from_revision == stamped_as
        assert upgraded.calls() == V1_CALLS
        assert schema_differences(upgraded.engine) == []
        with upgraded.engine.connect() as connection:
            version = connection.execute(select(schema.schema_version.c.version)).scalar()

    assert version == schema.SCHEMA_VERSION


def test_every_revision_run_from_an_empty_database_builds_the_schema_of_the_code(
    store_url: str,
):
    engine = create_engine(store_url)
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "head")

    assert schema_differences(engine) == []
    engine.dispose()


def test_a_new_database_is_created_at_the_head_revision(store_url: str):
    with Store.open(store_url) as store:
        assert store.schema_change == migrate.SchemaChange(None, HEAD)
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == (HEAD,)
            version = connection.execute(select(schema.schema_version.c.version)).scalar()
        assert schema_differences(store.engine) == []

    assert version == schema.SCHEMA_VERSION


def test_a_database_of_a_newer_ringtest_is_refused_even_when_upgrading(store_url: str):
    with Store.open(store_url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        shown = store.url_for_display

    with pytest.raises(SchemaVersionMismatch) as raised:
        Store.open(store_url, upgrade=True)

    assert str(raised.value) == (
        f"database {shown} is at schema revision 0099, which this ringtest does not know "
        f"(its newest is {HEAD}): upgrade ringtest, or set RINGTEST_DB to another database"
    )


def test_a_schema_version_no_ringtest_wrote_is_refused(store_url: str):
    with Store.open(store_url) as store, store.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(schema.schema_version.update().values(version=7))
        shown = store.url_for_display

    with pytest.raises(SchemaVersionMismatch) as raised:
        Store.open(store_url, upgrade=True)

    assert str(raised.value) == (
        f"database {shown} has schema version 7 and no Alembic revision, which no ringtest "
        "writes: set RINGTEST_DB to a ringtest database"
    )
