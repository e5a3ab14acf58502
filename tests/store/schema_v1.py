"""A database as ringtest's first schema (version 1) left it, built from the DDL that
schema compiled to (tests/fixtures/store/) with a row in each table, written the way
that ringtest wrote them."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from sqlalchemy import create_engine

from ringtest.core.records import RunSlot
from ringtest.store import schema
from tests.store.builders import (
    MONDAY_9AM,
    call_record,
    campaign,
    obligation,
    ring_test_result,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "store"

V1_CALLS = [call_record(), call_record(call_id="1741000000.9", caller="+441632960002")]
V1_RUN = RunSlot(campaign="spring", target="+441632960100", planned_at=MONDAY_9AM, reason="placed")
V1_CAMPAIGN_COLUMNS_ADDED = ("definition",)
V1_RUN_COLUMNS_ADDED = ("callback", "started_at")
RING_TEST_COLUMNS_ADDED_IN_0010 = (
    "ivr_keys",
    "ivr_seconds",
    "ring_seconds_after_ivr",
    "rings_after_ivr",
    "to_person_seconds",
)


def v1_statements(dialect: str) -> list[str]:
    """The schema-version-1 DDL and schema_version row for `dialect`, one statement each."""
    lines = (FIXTURES / f"schema_v1.{dialect}.sql").read_text().splitlines()
    body = "\n".join(line for line in lines if not line.startswith("--"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]


def without(record: object, *names: str) -> dict:
    return {name: value for name, value in asdict(record).items() if name not in names}


def write_schema_version_1(url: str) -> None:
    """A database as ringtest's first schema left it: its tables and a row in each."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in v1_statements(connection.dialect.name):
                connection.exec_driver_sql(statement)
            connection.execute(schema.calls.insert(), [asdict(call) for call in V1_CALLS])
            connection.execute(
                schema.ring_tests.insert(),
                [without(ring_test_result(), *RING_TEST_COLUMNS_ADDED_IN_0010)],
            )
            connection.execute(schema.callback_obligations.insert(), [asdict(obligation())])
            connection.execute(
                schema.campaigns.insert(), [without(campaign(), *V1_CAMPAIGN_COLUMNS_ADDED)]
            )
            connection.execute(
                schema.campaign_runs.insert(), [without(V1_RUN, *V1_RUN_COLUMNS_ADDED)]
            )
    finally:
        engine.dispose()
