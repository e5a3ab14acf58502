"""The store's side of data protection: pseudonymise, delete and find a caller's rows.

Which rows hold a number:

* ``calls.caller`` and ``callback_obligations.caller``: the citizen who called;
* ``ring_tests.target``, ``callback_tests.target``, ``.callback_number`` and
  ``.caller``: numbers our own tests called, left or were called back from.

The pseudonyms themselves are made outside (`ringtest.services.pseudonyms`):
this module reads which numbers are due and writes what it is given. A caller
with a callback still owed (OPEN or OVERDUE) on a PBX keeps their number there,
whatever its age: the callback ledger matches their next call by it.
Each function is one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, not_, or_, select

from ringtest.core.records import (
    CallbackObligation,
    CallbackStatus,
    CallbackTest,
    CallRecord,
    RingTestResult,
)
from ringtest.store import database
from ringtest.store.record_tables import (
    CALLBACK_TESTS,
    CALLS,
    GREETING_AUDITS,
    OBLIGATIONS,
    RING_TESTS,
    UNMATCHED_CALLS,
)
from ringtest.store.store import Store

PSEUDONYM_LIKE = "anon:%"

_calls = CALLS.table
_obligations = OBLIGATIONS.table
_ring_tests = RING_TESTS.table
_audits = GREETING_AUDITS.table
_callback_tests = CALLBACK_TESTS.table
_unmatched_calls = UNMATCHED_CALLS.table

STILL_OWED = (CallbackStatus.OPEN, CallbackStatus.OVERDUE)
"""Obligation statuses whose caller is still owed a call back."""


@dataclass
class HeldRecords:
    """Every stored record that holds one number (or its pseudonym)."""

    calls: list[CallRecord] = field(default_factory=list)
    callback_obligations: list[CallbackObligation] = field(default_factory=list)
    ring_tests: list[RingTestResult] = field(default_factory=list)
    callback_tests: list[CallbackTest] = field(default_factory=list)


@dataclass(frozen=True)
class ErasedRows:
    """How many rows of each table an erasure deleted."""

    calls: int
    callback_obligations: int
    ring_tests: int
    callback_tests: int


def _callback_owed(pbx: Any, caller: Any) -> ColumnElement[bool]:
    """A callback to `caller` on `pbx` is still owed (their number is still needed)."""
    return exists().where(
        _obligations.c.pbx == pbx,
        _obligations.c.caller == caller,
        _obligations.c.status.in_(STILL_OWED),
    )


def _a_number(column: Any) -> ColumnElement[bool]:
    """`column` holds something other than nothing or a pseudonym."""
    return and_(column != "", not_(column.like(PSEUDONYM_LIKE)))


def _calls_due(before: datetime) -> list[ColumnElement[bool]]:
    return [
        _calls.c.started_at < before,
        _a_number(_calls.c.caller),
        not_(_callback_owed(_calls.c.pbx, _calls.c.caller)),
    ]


def _obligations_due(before: datetime) -> list[ColumnElement[bool]]:
    return [
        _obligations.c.status.not_in(STILL_OWED),
        func.coalesce(_obligations.c.closed_at, _obligations.c.deadline_at) < before,
        _a_number(_obligations.c.caller),
    ]


def callers_due_for_pseudonyms(store: Store, before: datetime) -> set[str]:
    """Numbers in calls started before `before` (no callback owed to them) and in
    obligations closed before it."""
    with store.reading() as connection:
        calls = connection.execute(select(_calls.c.caller).where(*_calls_due(before)).distinct())
        obligations = connection.execute(
            select(_obligations.c.caller).where(*_obligations_due(before)).distinct()
        )
        return set(calls.scalars()) | set(obligations.scalars())


def pseudonymise_callers(
    store: Store, pseudonyms: Mapping[str, str], before: datetime
) -> tuple[int, int]:
    """Replace each number in `pseudonyms` by its pseudonym where `callers_due_for_pseudonyms`
    found it due; returns (calls, obligations) changed."""
    calls_changed = obligations_changed = 0
    with _writing(store) as connection:
        for caller, pseudonym in pseudonyms.items():
            calls_changed += connection.execute(
                _calls.update()
                .where(*_calls_due(before), _calls.c.caller == caller)
                .values(caller=pseudonym)
            ).rowcount
            obligations_changed += connection.execute(
                _obligations.update()
                .where(*_obligations_due(before), _obligations.c.caller == caller)
                .values(caller=pseudonym)
            ).rowcount
    return calls_changed, obligations_changed


@dataclass(frozen=True)
class DeletedCalls:
    """How many rows `delete_calls_before` deleted from each table of calls."""

    calls: int
    obligations: int
    unmatched_calls: int


def delete_calls_before(store: Store, before: datetime) -> DeletedCalls:
    """Delete calls started, obligations missed and unmatched inbound calls started before
    `before`, in one transaction."""
    with _writing(store) as connection:
        calls = connection.execute(_calls.delete().where(_calls.c.started_at < before))
        obligations = connection.execute(
            _obligations.delete().where(_obligations.c.missed_at < before)
        )
        unmatched = connection.execute(
            _unmatched_calls.delete().where(_unmatched_calls.c.started_at < before)
        )
        return DeletedCalls(calls.rowcount, obligations.rowcount, unmatched.rowcount)


def evidence_before(store: Store, before: datetime) -> dict[str, str]:
    """test_id to evidence WAV path of the ring tests placed before `before` that have one."""
    query = select(_ring_tests.c.test_id, _ring_tests.c.evidence_path).where(
        _ring_tests.c.placed_at < before, _ring_tests.c.evidence_path.is_not(None)
    )
    with store.reading() as connection:
        return {test_id: path for test_id, path in connection.execute(query)}


def forget_evidence(store: Store, test_ids: Collection[str]) -> int:
    """Clear the evidence path of the ring tests `test_ids` (their WAVs are gone) and delete
    their greeting audits (a transcript may name the member of staff who answered, and
    goes with the recording); returns the ring tests changed."""
    if not test_ids:
        return 0
    with _writing(store) as connection:
        update = _ring_tests.update().where(_ring_tests.c.test_id.in_(list(test_ids)))
        changed = connection.execute(update.values(evidence_path=None)).rowcount
        connection.execute(_audits.delete().where(_audits.c.test_id.in_(list(test_ids))))
        return changed


def _holding(identities: Collection[str]) -> dict[str, ColumnElement[bool]]:
    """Per table, the rows that hold any of `identities` (numbers and pseudonyms)."""
    known = list(identities)
    return {
        "calls": _calls.c.caller.in_(known),
        "callback_obligations": _obligations.c.caller.in_(known),
        "ring_tests": _ring_tests.c.target.in_(known),
        "callback_tests": or_(
            _callback_tests.c.target.in_(known),
            _callback_tests.c.callback_number.in_(known),
            _callback_tests.c.caller.in_(known),
        ),
    }


_RECORD_TABLES = {
    "calls": CALLS,
    "callback_obligations": OBLIGATIONS,
    "ring_tests": RING_TESTS,
    "callback_tests": CALLBACK_TESTS,
}


def records_holding(store: Store, identities: Collection[str]) -> HeldRecords:
    """Every stored record holding one of `identities`, each table in its read order."""
    held = HeldRecords()
    with store.reading() as connection:
        for name, condition in _holding(identities).items():
            records_table = _RECORD_TABLES[name]
            query = records_table.query().where(condition)
            rows = connection.execute(query)
            getattr(held, name).extend(records_table.record(row._mapping) for row in rows)
    return held


def erase_records_holding(store: Store, identities: Collection[str]) -> ErasedRows:
    """Delete every row `records_holding` would return, in one transaction."""
    with _writing(store) as connection:
        deleted = {
            name: connection.execute(_RECORD_TABLES[name].table.delete().where(condition)).rowcount
            for name, condition in _holding(identities).items()
        }
    return ErasedRows(**deleted)


@contextmanager
def _writing(store: Store) -> Iterator[Connection]:
    """One write transaction on `store` whose driver errors become one StoreError line."""
    with (
        database.database_errors("writing to database", store.url_for_display),
        store.engine.begin() as connection,
    ):
        yield connection
