"""`Store`: save and read ringtest's records in SQLite or PostgreSQL, one code path for both.

Writes are upserts keyed by each record's natural key, so a record seen again
(a replayed recording, a re-run test) replaces its row instead of duplicating it.
Every write runs in one transaction: if it fails, nothing of it is stored and
the rows stored before it are untouched. Periods are half-open, `since`
inclusive and `until` exclusive: a call belongs to the period in which it started.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from functools import cache
from itertools import islice
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Engine, Select, Table, select

from ringtest.errors import StoreError
from ringtest.records import CallbackObligation, CallbackStatus, CallRecord, RingTestResult
from ringtest.store import database, schema
from ringtest.store.callback_test_records import CallbackTest, CallbackTestStatus
from ringtest.store.campaign_records import Campaign, RunSlot, RunStatus

logger = logging.getLogger(__name__)

Record = TypeVar("Record")

SAVE_BATCH_ROWS = 5000
"""Rows sent per executemany; bounds memory when saving a long stream of calls."""

ITER_CHUNK_ROWS = 1000
"""Rows fetched per round trip by `iter_calls`."""

UNCLOSED_STATUSES = (CallbackStatus.OPEN, CallbackStatus.OVERDUE)


class Store:
    """A ringtest database: open it with `Store.open`, close it or use it in `with`."""

    def __init__(self, engine: Engine, url_for_display: str) -> None:
        self.engine = engine
        self.url_for_display = url_for_display
        self._backend = database.BACKENDS[engine.dialect.name]

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (creating its tables if empty) `url`, else $RINGTEST_DB, else the default.

        The default is `ringtest.db` in the user data directory (created if missing).
        Raises StoreError when the database cannot be reached, SchemaVersionMismatch
        when it was written by another schema version.
        """
        resolved = database.resolve_url(url)
        engine = database.create_store_engine(resolved)
        store = cls(engine, database.display(resolved))
        try:
            database.ensure_schema(engine, store.url_for_display)
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Calls measured by the AMI listener.

    def save_calls(self, records: Iterable[CallRecord]) -> int:
        """Upsert `records` in one transaction, in batches; returns how many were given.

        A record whose (pbx, call_id) is already stored replaces that row; of two
        records with the same key in one call, the later one wins.
        """
        return self._upsert(schema.calls, records)

    def save_call(self, record: CallRecord) -> None:
        """Upsert one call."""
        self._upsert(schema.calls, [record])

    def calls(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        line: str | None = None,
        department: str | None = None,
    ) -> list[CallRecord]:
        """Calls that started in [since, until), optionally on one line or department."""
        return list(self.iter_calls(since, until, line, department))

    def iter_calls(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        line: str | None = None,
        department: str | None = None,
    ) -> Iterator[CallRecord]:
        """Like `calls`, streamed `ITER_CHUNK_ROWS` at a time for large exports."""
        table = schema.calls
        query = _matching(table, line=line, department=department)
        query = _in_period(query, table.c.started_at, since, until)
        query = query.order_by(table.c.started_at, table.c.pbx, table.c.call_id)
        with (
            database.database_errors("reading database", self.url_for_display),
            self.engine.connect() as connection,
        ):
            result = connection.execution_options(yield_per=ITER_CHUNK_ROWS).execute(query)
            for row in result:
                yield _record(CallRecord, row._mapping)

    # Ring tests placed by the SIP test caller.

    def save_ring_test(self, result: RingTestResult) -> None:
        """Upsert one ring test result by its test_id."""
        self._upsert(schema.ring_tests, [result])

    def ring_tests(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        department: str | None = None,
        campaign: str | None = None,
    ) -> list[RingTestResult]:
        """Ring tests placed in [since, until), optionally of one department or campaign."""
        table = schema.ring_tests
        query = _matching(table, department=department, campaign=campaign)
        query = _in_period(query, table.c.placed_at, since, until)
        return self._read(RingTestResult, query.order_by(table.c.placed_at, table.c.test_id))

    # Callback obligations opened by missed calls.

    def save_obligation(self, obligation: CallbackObligation) -> None:
        """Upsert one obligation by (pbx, call_id) of the missed call."""
        self._upsert(schema.callback_obligations, [obligation])

    def obligations(self, status: CallbackStatus | None = None) -> list[CallbackObligation]:
        """Obligations, optionally of one status, the earliest deadline first."""
        table = schema.callback_obligations
        query = _matching(table, status=status).order_by(
            table.c.deadline_at, table.c.pbx, table.c.call_id
        )
        return self._read(CallbackObligation, query)

    def open_obligations_for(self, pbx: str, caller: str) -> list[CallbackObligation]:
        """Obligations to `caller` on `pbx` not yet closed (OPEN or OVERDUE), oldest first."""
        table = schema.callback_obligations
        query = (
            _matching(table, pbx=pbx, caller=caller)
            .where(table.c.status.in_(UNCLOSED_STATUSES))
            .order_by(table.c.missed_at, table.c.call_id)
        )
        return self._read(CallbackObligation, query)

    # Callback tests: ring tests that asked to be called back.

    def save_callback_test(self, test: CallbackTest) -> None:
        """Upsert one callback test by its test_id."""
        self._upsert(schema.callback_tests, [test])

    def callback_tests(
        self, status: CallbackTestStatus | None = None, account: str | None = None
    ) -> list[CallbackTest]:
        """Callback tests, optionally of one status or account, the oldest message first."""
        table = schema.callback_tests
        query = _matching(table, status=status, account=account)
        return self._read(CallbackTest, query.order_by(table.c.left_at, table.c.test_id))

    # Campaigns and their planned run slots.

    def save_campaign(self, campaign: Campaign) -> None:
        """Upsert a campaign by name; a stored campaign keeps its first `created_at`."""
        self._upsert(schema.campaigns, [campaign], keep_on_conflict=("created_at",))

    def campaigns(self) -> list[Campaign]:
        """Every stored campaign, by name."""
        return self._read(Campaign, select(schema.campaigns).order_by(schema.campaigns.c.name))

    def set_campaign_paused(self, name: str, paused: bool, at: datetime) -> None:
        """Pause or resume campaign `name`, stamping `updated_at` with `at` (UTC)."""
        table = schema.campaigns
        update = table.update().where(table.c.name == name).values(paused=paused, updated_at=at)
        with self._writing() as connection:
            if connection.execute(update).rowcount == 0:
                raise StoreError(
                    f"no campaign named {name!r} in database {self.url_for_display}: "
                    "check the name against the stored campaigns"
                )

    def plan_runs(self, slots: Iterable[RunSlot]) -> int:
        """Insert the slots not yet stored, in one transaction; returns how many were new.

        A slot is identified by (campaign, target, planned_at); an existing slot
        keeps its status, so planning the same schedule again changes nothing.
        """
        insert = (
            self._backend.insert(schema.campaign_runs)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        rows = [_row(slot) for slot in slots]
        if not rows:
            return 0
        with self._writing() as connection:
            return connection.execute(insert, rows).rowcount

    def set_run_status(
        self,
        campaign: str,
        target: str,
        planned_at: datetime,
        status: RunStatus,
        *,
        test_id: str | None = None,
        reason: str = "",
    ) -> None:
        """Record where the slot (campaign, target, planned_at) now stands."""
        table = schema.campaign_runs
        update = (
            table.update()
            .where(
                table.c.campaign == campaign,
                table.c.target == target,
                table.c.planned_at == planned_at,
            )
            .values(status=status, test_id=test_id, reason=reason)
        )
        with self._writing() as connection:
            if connection.execute(update).rowcount == 0:
                raise StoreError(
                    f"no run of campaign {campaign!r} to {target!r} planned at "
                    f"{planned_at.isoformat()} in database {self.url_for_display}: "
                    "plan the run before recording its status"
                )

    def claim_run(
        self, campaign: str, target: str, planned_at: datetime, *, test_id: str, at: datetime
    ) -> bool:
        """Move the slot from PLANNED to PLACED, stamping `test_id` and `started_at` = `at`.

        Returns False (changing nothing) when the slot is not PLANNED: someone
        already claimed or settled it. Only one of several racing claims wins.
        """
        table = schema.campaign_runs
        update = (
            table.update()
            .where(
                table.c.campaign == campaign,
                table.c.target == target,
                table.c.planned_at == planned_at,
                table.c.status == RunStatus.PLANNED,
            )
            .values(status=RunStatus.PLACED, test_id=test_id, started_at=at)
        )
        with self._writing() as connection:
            return connection.execute(update).rowcount == 1

    def skip_run(self, campaign: str, target: str, planned_at: datetime, reason: str) -> bool:
        """Record a PLANNED slot as NOT_PLACED with `reason`; False when it was not PLANNED."""
        table = schema.campaign_runs
        update = (
            table.update()
            .where(
                table.c.campaign == campaign,
                table.c.target == target,
                table.c.planned_at == planned_at,
                table.c.status == RunStatus.PLANNED,
            )
            .values(status=RunStatus.NOT_PLACED, reason=reason)
        )
        with self._writing() as connection:
            return connection.execute(update).rowcount == 1

    def replan_runs(
        self, campaign: str, slots: Iterable[RunSlot], *, since: datetime, drop_others: bool
    ) -> tuple[int, int]:
        """Store the slots of `campaign` not yet stored; returns (added, dropped).

        With `drop_others`, PLANNED slots of `campaign` at or after `since` that are
        not among `slots` are deleted first (the campaign's definition changed).
        Slots that already ran, or are before `since`, are never touched. One transaction.
        """
        table = schema.campaign_runs
        rows = [_row(slot) for slot in slots]
        keep = {(row["target"], row["planned_at"]) for row in rows}
        planned = (
            table.c.campaign == campaign,
            table.c.status == RunStatus.PLANNED,
            table.c.planned_at >= since,
        )
        insert = (
            self._backend.insert(table)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        dropped = 0
        with self._writing() as connection:
            if drop_others:
                stale = [
                    (target, planned_at)
                    for target, planned_at in connection.execute(
                        select(table.c.target, table.c.planned_at).where(*planned)
                    )
                    if (target, planned_at) not in keep
                ]
                for target, planned_at in stale:
                    connection.execute(
                        table.delete().where(
                            *planned, table.c.target == target, table.c.planned_at == planned_at
                        )
                    )
                dropped = len(stale)
            added = connection.execute(insert, rows).rowcount if rows else 0
        return added, dropped

    def runs(
        self,
        campaign: str | None = None,
        status: RunStatus | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RunSlot]:
        """Run slots planned in [since, until), optionally of one campaign or status."""
        table = schema.campaign_runs
        query = _matching(table, campaign=campaign, status=status)
        query = _in_period(query, table.c.planned_at, since, until)
        return self._read(
            RunSlot, query.order_by(table.c.planned_at, table.c.campaign, table.c.target)
        )

    # The write and read paths every method above goes through.

    def _upsert(
        self, table: Table, records: Iterable[Any], keep_on_conflict: tuple[str, ...] = ()
    ) -> int:
        insert = self._backend.insert(table)
        key_columns = list(table.primary_key.columns)
        statement = insert.on_conflict_do_update(
            index_elements=key_columns,
            set_={
                column.name: insert.excluded[column.name]
                for column in table.columns
                if not column.primary_key and column.name not in keep_on_conflict
            },
        )
        key_names = [column.name for column in key_columns]
        saved = 0
        records_left = iter(records)
        with self._writing() as connection:
            while batch := list(islice(records_left, SAVE_BATCH_ROWS)):
                rows_by_key = {}  # one row per key: a statement may not upsert a row twice
                for record in batch:
                    row = _row(record)
                    rows_by_key[tuple(row[name] for name in key_names)] = row
                connection.execute(statement, list(rows_by_key.values()))
                saved += len(batch)
        logger.debug("saved %d rows into %s", saved, table.name)
        return saved

    def _read(self, record_class: type[Record], query: Select[Any]) -> list[Record]:
        with (
            database.database_errors("reading database", self.url_for_display),
            self.engine.connect() as connection,
        ):
            return [_record(record_class, row._mapping) for row in connection.execute(query)]

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction whose driver errors (commit included) become StoreError."""
        with (
            database.database_errors("writing to database", self.url_for_display),
            self.engine.begin() as connection,
        ):
            yield connection


@cache
def _field_names(record_class: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(record_class))


def _row(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _field_names(type(record))}


def _record(record_class: type[Record], row: Mapping[str, Any]) -> Record:
    return record_class(**row)


def _matching(table: Table, **equal_to: object) -> Select[Any]:
    """SELECT * FROM table WHERE each given column equals its value (None: no filter)."""
    conditions: list[ColumnElement[bool]] = [
        table.c[name] == value for name, value in equal_to.items() if value is not None
    ]
    return select(table).where(*conditions)


def _in_period(
    query: Select[Any], column: Column[Any], since: datetime | None, until: datetime | None
) -> Select[Any]:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query
