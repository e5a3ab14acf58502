"""`Store`: save and read ringtest's records in SQLite or PostgreSQL, one code path for both.

Writes are upserts keyed by each record's natural key, so a record seen again
(a replayed recording, a re-run test) replaces its row instead of duplicating it.
Every write runs in one transaction: if it fails, nothing of it is stored and
the rows stored before it are untouched. Periods are half-open, `since`
inclusive and `until` exclusive: a call belongs to the period in which it started.
Which table holds which record type, and in what order it is read back, is the
data in `record_tables`; every method here goes through one write or read path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from types import TracebackType
from typing import Any, Self

from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, select

from ringtest.core.errors import StoreError
from ringtest.core.records import (
    CallbackObligation,
    CallbackStatus,
    CallbackTest,
    CallbackTestStatus,
    CallRecord,
    Campaign,
    CoverageGap,
    GapFill,
    GreetingAudit,
    RingTestResult,
    RunSlot,
    RunStatus,
    UnmatchedInboundCall,
)
from ringtest.store import coverage, database, migrate, schema, streaming, upserts
from ringtest.store.record_tables import (
    CALLBACK_TESTS,
    CALLS,
    CAMPAIGN_RUNS,
    CAMPAIGNS,
    GAP_FILLS,
    GAPS,
    GREETING_AUDITS,
    OBLIGATIONS,
    RING_TESTS,
    UNMATCHED_CALLS,
    Record,
    RecordTable,
    equal,
)
from ringtest.store.unmatched import UnmatchedNumber, unmatched_numbers_query
from ringtest.store.upserts import SAVE_BATCH_ROWS

logger = logging.getLogger(__name__)

ITER_CHUNK_ROWS = 5000
"""Rows fetched per round trip by `iter_calls`."""


class Store:
    """A ringtest database: open it with `Store.open`, close it or use it in `with`."""

    def __init__(self, engine: Engine, url_for_display: str) -> None:
        self.engine = engine
        self.url_for_display = url_for_display
        self.schema_change: migrate.SchemaChange | None = None
        """What opening it did to its schema (None: it was at the head revision)."""
        self._backend = database.BACKENDS[engine.dialect.name]

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True, upgrade: bool = False) -> Store:
        """Open `url`, else $RINGTEST_DB, else the default; with `create`, a missing SQLite
        file or an empty database is created at the head revision (`created` says so).

        The default is `ringtest.db` in the user data directory. With `upgrade`, a
        database of an older schema revision is upgraded (an SQLite file backed up
        first); `schema_change` then says what was done. Raises StoreError when the
        database cannot be reached, or (without `create`) does not exist or holds no
        ringtest tables; SchemaVersionMismatch when its schema is older (and `upgrade`
        is False) or newer than this ringtest's.
        """
        resolved = database.resolve_url(url)
        if not create and database.sqlite_file_missing(resolved):
            raise StoreError(database.missing_database_message(database.display(resolved)))
        engine = database.create_store_engine(resolved)
        store = cls(engine, database.display(resolved))
        try:
            store.schema_change = migrate.bring_to_head(
                resolved, engine, store.url_for_display, create=create, upgrade=upgrade
            )
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def created(self) -> bool:
        """Whether opening it created its tables (a new database)."""
        return self.schema_change is not None and self.schema_change.from_revision is None

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

        A record whose (pbx, call_id) is already stored replaces that row, except that an
        ``incomplete`` record merges into it (`record_tables.CALL_MERGE`): it never
        replaces a complete row, nor an answer, a ring time or an earlier start already
        stored. Two records with the same key in one call are saved in their order.
        """
        return self._save(CALLS, records)

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
        """Like `calls`, streamed `ITER_CHUNK_ROWS` at a time for large exports (memory holds
        one chunk; the connection stays open until the last record is taken)."""
        query = CALLS.query(since, until, line=line, department=department)
        with self.reading() as connection:
            yield from streaming.stream_records(connection, CALLS, query, ITER_CHUNK_ROWS)

    def save_new_calls(self, records: Iterable[CallRecord]) -> int:
        """Insert the `records` whose (pbx, call_id) is not stored yet, in one transaction,
        `SAVE_BATCH_ROWS` at a time; a stored call is kept as stored. Returns how many
        were inserted."""
        statement = CALLS.insert_new(self._backend)
        inserted = 0
        records_left = iter(records)
        with self._writing() as connection:
            while batch := [CALLS.row(record) for record in islice(records_left, SAVE_BATCH_ROWS)]:
                inserted += connection.execute(statement, batch).rowcount
        logger.debug("inserted %d new rows into %s", inserted, CALLS.table.name)
        return inserted

    # Coverage: when the listener did not see its PBX.

    def save_gaps(self, gaps: Iterable[CoverageGap]) -> int:
        """Upsert coverage gaps by (pbx, started_at); returns how many were given."""
        return self._save(GAPS, gaps)

    def gaps(
        self, since: datetime | None = None, until: datetime | None = None, pbx: str | None = None
    ) -> list[CoverageGap]:
        """Gaps that overlap [since, until) (None: unbounded), optionally of one PBX, oldest
        first; a gap that began before `since` or ends after `until` is listed whole."""
        table = GAPS.table
        overlapping = []
        if since is not None:
            overlapping.append(table.c.ended_at > since)
        if until is not None:
            overlapping.append(table.c.started_at < until)
        return self._read(GAPS, GAPS.query(pbx=pbx).where(*overlapping))

    def save_gap_fill(self, fill: GapFill) -> None:
        """Upsert what the PBX's history added to a gap, keyed like the gap (pbx, started_at)."""
        self._save(GAP_FILLS, [fill])

    def gap_fills(self, pbx: str | None = None) -> list[GapFill]:
        """Every gap fill, optionally of one PBX, by the gap's start."""
        return self._read(GAP_FILLS, GAP_FILLS.query(pbx=pbx))

    def save_listener_seen(self, pbx: str, seen_until: datetime) -> None:
        """Record that the listener on `pbx` saw it up to `seen_until` (UTC); never moves back."""
        with self._writing() as connection:
            statement = coverage.seen_until_upsert(self._backend)
            connection.execute(statement, {"pbx": pbx, "seen_until": seen_until})

    def listener_seen_until(self, pbx: str) -> datetime | None:
        """The latest instant (UTC) a listener on `pbx` is known to have seen it; None if never."""
        with self.reading() as connection:
            return connection.execute(coverage.seen_until_query(pbx)).scalar()

    # Calls from the public that matched no configured line.

    def save_unmatched_calls(self, calls: Iterable[UnmatchedInboundCall]) -> int:
        """Upsert unmatched inbound calls by (pbx, call_id); returns how many were given."""
        return self._save(UNMATCHED_CALLS, calls)

    def unmatched_numbers(self, since: datetime, until: datetime) -> list[UnmatchedNumber]:
        """The numbers dialled by unmatched calls in [since, until), most called first."""
        with self.reading() as connection:
            rows = connection.execute(unmatched_numbers_query(since, until)).mappings()
            return [UnmatchedNumber(**row) for row in rows]

    # Ring tests placed by the SIP test caller.

    def save_ring_test(self, result: RingTestResult) -> None:
        """Upsert one ring test result by its test_id."""
        self._save(RING_TESTS, [result])

    def ring_tests(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        department: str | None = None,
        campaign: str | None = None,
    ) -> list[RingTestResult]:
        """Ring tests placed in [since, until), optionally of one department or campaign."""
        query = RING_TESTS.query(since, until, department=department, campaign=campaign)
        return self._read(RING_TESTS, query)

    def save_greeting_audit(self, audit: GreetingAudit) -> None:
        """Upsert what a ring test's answerer said, by the ring test's test_id."""
        self._save(GREETING_AUDITS, [audit])

    def greeting_audit(self, test_id: str) -> GreetingAudit | None:
        """The greeting audit of ring test `test_id`; None when it was not audited."""
        found = self._read(GREETING_AUDITS, GREETING_AUDITS.query(test_id=test_id))
        return found[0] if found else None

    # Callback obligations opened by missed calls.

    def save_obligation(self, obligation: CallbackObligation) -> None:
        """Upsert one obligation by (pbx, call_id) of the missed call."""
        self._save(OBLIGATIONS, [obligation])

    def save_obligations(self, obligations: Sequence[CallbackObligation]) -> None:
        """Upsert obligations by (pbx, call_id), in one write; a later change of the same
        obligation is applied after an earlier one."""
        self._save(OBLIGATIONS, obligations)

    def obligations(self, status: CallbackStatus | None = None) -> list[CallbackObligation]:
        """Obligations, optionally of one status, the earliest deadline first."""
        return self._read(OBLIGATIONS, OBLIGATIONS.query(status=status))

    # Callback tests: ring tests that asked to be called back.

    def save_callback_test(self, test: CallbackTest) -> None:
        """Upsert one callback test by its test_id."""
        self._save(CALLBACK_TESTS, [test])

    def callback_tests(
        self, status: CallbackTestStatus | None = None, account: str | None = None
    ) -> list[CallbackTest]:
        """Callback tests, optionally of one status or account, the oldest message first."""
        return self._read(CALLBACK_TESTS, CALLBACK_TESTS.query(status=status, account=account))

    # Campaigns and their planned run slots.

    def save_campaign(self, campaign: Campaign) -> None:
        """Upsert a campaign by name; a stored campaign keeps its first `created_at`."""
        self._save(CAMPAIGNS, [campaign])

    def campaigns(self) -> list[Campaign]:
        """Every stored campaign, by name."""
        return self._read(CAMPAIGNS, CAMPAIGNS.query())

    def set_campaign_paused(self, name: str, paused: bool, at: datetime) -> None:
        """Pause or resume campaign `name`, stamping `updated_at` with `at` (UTC)."""
        table = CAMPAIGNS.table
        if self._update(table, equal(table, name=name), paused=paused, updated_at=at) == 0:
            raise StoreError(
                f"no campaign named {name!r} in database {self.url_for_display}: "
                "check the name against the stored campaigns"
            )

    def plan_runs(self, slots: Iterable[RunSlot]) -> int:
        """Insert the slots not yet stored, in one transaction; returns how many were new.

        A slot is identified by (campaign, target, planned_at); an existing slot
        keeps its status, so planning the same schedule again changes nothing.
        """
        rows = [CAMPAIGN_RUNS.row(slot) for slot in slots]
        if not rows:
            return 0
        with self._writing() as connection:
            return connection.execute(CAMPAIGN_RUNS.insert_new(self._backend), rows).rowcount

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
        slot = _run_slot(campaign, target, planned_at)
        changed = self._update(
            CAMPAIGN_RUNS.table, slot, status=status, test_id=test_id, reason=reason
        )
        if changed == 0:
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
        return self._move_planned_run(
            campaign, target, planned_at, status=RunStatus.PLACED, test_id=test_id, started_at=at
        )

    def skip_run(self, campaign: str, target: str, planned_at: datetime, reason: str) -> bool:
        """Record a PLANNED slot as NOT_PLACED with `reason`; False when it was not PLANNED."""
        return self._move_planned_run(
            campaign, target, planned_at, status=RunStatus.NOT_PLACED, reason=reason
        )

    def replan_runs(
        self, campaign: str, slots: Iterable[RunSlot], *, since: datetime, drop_others: bool
    ) -> tuple[int, int]:
        """Store the slots of `campaign` not yet stored; returns (added, dropped).

        With `drop_others`, PLANNED slots of `campaign` at or after `since` that are
        not among `slots` are deleted first (the campaign's definition changed).
        Slots that already ran, or are before `since`, are never touched. One transaction.
        """
        table = CAMPAIGN_RUNS.table
        rows = [CAMPAIGN_RUNS.row(slot) for slot in slots]
        keep = {(row["target"], row["planned_at"]) for row in rows}
        planned = (
            *equal(table, campaign=campaign, status=RunStatus.PLANNED),
            table.c.planned_at >= since,
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
            insert = CAMPAIGN_RUNS.insert_new(self._backend)
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
        query = CAMPAIGN_RUNS.query(since, until, campaign=campaign, status=status)
        return self._read(CAMPAIGN_RUNS, query)

    # The write and read paths every method above goes through.

    def _save(self, records_table: RecordTable[Record], records: Iterable[Record]) -> int:
        """Upsert `records` in one transaction (`upserts.save`); how many were given."""
        with self._writing() as connection:
            saved = upserts.save(connection, records_table, records)
        logger.debug("saved %d rows into %s", saved, records_table.table.name)
        return saved

    def _read(self, records_table: RecordTable[Record], query: Select[Any]) -> list[Record]:
        """The records of `query`'s rows, all read before returning."""
        return list(self._stream(records_table, query))

    def _stream(
        self, records_table: RecordTable[Record], query: Select[Any], **execution_options: Any
    ) -> Iterator[Record]:
        """The records of `query`'s rows, read as they are consumed (the connection stays
        open until then); `execution_options` such as `yield_per` go to the execution."""
        with self.reading() as connection:
            for row in connection.execution_options(**execution_options).execute(query):
                yield records_table.record(row._mapping)

    def _update(self, table: Table, where: Iterable[ColumnElement[bool]], **values: Any) -> int:
        """UPDATE `table` SET `values` WHERE all of `where`, in one transaction; rows changed."""
        with self._writing() as connection:
            return connection.execute(table.update().where(*where).values(**values)).rowcount

    def _move_planned_run(
        self, campaign: str, target: str, planned_at: datetime, **values: Any
    ) -> bool:
        """Set `values` on the run slot only if it is still PLANNED; True when it was."""
        still_planned = CAMPAIGN_RUNS.table.c.status == RunStatus.PLANNED
        slot = (*_run_slot(campaign, target, planned_at), still_planned)
        return self._update(CAMPAIGN_RUNS.table, slot, **values) == 1

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reading whose driver errors become one StoreError line (for
        readers outside this module that build their own queries, like the aggregates)."""
        with (
            database.database_errors("reading database", self.url_for_display),
            self.engine.connect() as connection,
        ):
            yield connection

    def check_writable(self) -> None:
        """Raise StoreError, one line naming the database and the fix, when it cannot be
        written (a read-only file or directory, a user without write rights): a trial
        write that changes nothing."""
        version = schema.schema_version
        with self._writing() as connection:
            connection.execute(
                version.update().where(version.c.id == 1).values(version=version.c.version)
            )

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction whose driver errors (commit included) become StoreError.

        After a failed write every pooled connection is dropped, so the next write opens
        a new one: SQLite keeps a connection opened on a read-only file read-only even
        once the file is writable again, and a broken server connection stays broken.
        """
        try:
            with (
                database.database_errors("writing to database", self.url_for_display),
                self.engine.begin() as connection,
            ):
                yield connection
        except StoreError:
            self.engine.dispose()
            raise


def _run_slot(campaign: str, target: str, planned_at: datetime) -> list[ColumnElement[bool]]:
    """Conditions that pick the one run slot (campaign, target, planned_at)."""
    return equal(CAMPAIGN_RUNS.table, campaign=campaign, target=target, planned_at=planned_at)
