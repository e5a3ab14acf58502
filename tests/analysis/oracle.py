"""The test oracle: every counted metric worked out row by row in pandas.

The report takes its counts from the database (`ringtest.store.aggregates`, the
one definition of each metric; `analysis.stored` turns the sums into tallies).
This module counts the same metrics again, the plain way, from typed
observations (`ringtest.core.observations`) and callback obligations, one row each:
the tests hold the database sums to these rows, figure for figure, and the
hand-worked metric tests run the oracle through `compliance_rows`.
Instants are UTC ``datetime64[ns, UTC]`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from itertools import zip_longest
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.compliance import (
    ANNOUNCED_NAME_COUNTS,
    COUNTED,
    METRICS,
    OUTCOME_COUNTS,
    TALLY_KEYS,
    MetricRules,
    Tally,
    compliance_rows,
)
from analysis.obligations import SECONDS_PER_HOUR, CallbackTally
from analysis.periods import Period, local_days
from ringtest.core.observations import (
    WHOLE_SECONDS_ERROR_SECONDS,
    Observation,
    observe_call,
    observe_ring_test,
)
from ringtest.core.records import (
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    Heard,
    RingTestResult,
)
from ringtest.store import Store
from ringtest.store.aggregates import LATENCY_STEP_SECONDS

OBSERVATION_FIELDS = tuple(field.name for field in fields(Observation))
OBLIGATION_COLUMNS = (
    "department",
    "line",
    "started_at",
    "deadline_at",
    "status",
    "closed_at",
    "working_seconds",
)


def observations_frame(
    observations: Iterable[Observation | None], verdicts: Iterable[Heard | None] = ()
) -> pd.DataFrame:
    """Observations (None: not observed, left out) as one row each, with the
    `announced_name` verdict of each one's greeting audit (`verdicts`, in the same order;
    None, or none given: not audited)."""
    pairs = zip_longest(observations, verdicts)
    rows = [
        asdict(observed) | {"announced_name": verdict}
        for observed, verdict in pairs
        if observed is not None
    ]
    frame = pd.DataFrame(rows, columns=[*OBSERVATION_FIELDS, "announced_name"])
    frame["source"] = frame["source"].map(str)
    frame["started_at"] = _utc(frame["started_at"])
    frame["outcome"] = frame["outcome"].map(str)
    for name in ("answered_by_person", "within_standard", "ring_time_unknown", "whole_seconds"):
        frame[name] = frame[name].astype(bool)
    for name in ("rings", "ring_seconds"):
        frame[name] = pd.to_numeric(frame[name]).astype(float)
    return frame


def live_observations(calls: Iterable[CallRecord]) -> pd.DataFrame:
    """Live calls as observation rows; our own ring-test calls left out."""
    return observations_frame(map(observe_call, calls))


def ring_test_observations(results: Iterable[RingTestResult]) -> pd.DataFrame:
    """Placed ring tests as observation rows."""
    return observations_frame(map(observe_ring_test, results))


def stored_observations(
    store: Store, since: datetime, until: datetime, department: str | None = None
) -> pd.DataFrame:
    """Stored calls and ring tests that started in [since, until), read as records and
    observed in Python."""
    calls = list(store.iter_calls(since, until, department=department))
    tests = store.ring_tests(since, until, department=department)
    audits = [store.greeting_audit(test.test_id) for test in tests]
    return observations_frame(
        [*map(observe_call, calls), *map(observe_ring_test, tests)],
        [None] * len(calls) + [audit and audit.announced_name for audit in audits],
    )


def obligations_frame(
    obligations: Iterable[CallbackObligation], calls: Iterable[CallRecord] = ()
) -> pd.DataFrame:
    """Obligations as OBLIGATION_COLUMNS rows, `started_at` their missed call's start
    (from `calls`), or when that call is not among them, the time it was missed."""
    started = {(call.pbx, call.call_id): call.started_at for call in calls}
    rows = [
        {
            **{name: getattr(owed, name) for name in OBLIGATION_COLUMNS if name != "started_at"},
            "started_at": started.get((owed.pbx, owed.call_id), owed.missed_at),
        }
        for owed in obligations
    ]
    frame = pd.DataFrame(rows, columns=list(OBLIGATION_COLUMNS))
    for name in ("started_at", "deadline_at", "closed_at"):
        frame[name] = _utc(frame[name])
    frame["status"] = frame["status"].map(str)
    frame["working_seconds"] = pd.to_numeric(frame["working_seconds"]).astype(float)
    return frame


def stored_obligations(
    store: Store, since: datetime, until: datetime, department: str | None = None
) -> pd.DataFrame:
    """Stored obligations of calls that started in [since, until), as `obligations_frame`."""
    frame = obligations_frame(store.obligations(), store.iter_calls())
    started = frame["started_at"]
    kept = (started >= pd.Timestamp(since)) & (started < pd.Timestamp(until))
    if department is not None:
        kept &= frame["department"] == department
    return frame[kept].reset_index(drop=True)


def tally(chunks: Iterable[pd.DataFrame], rules: MetricRules) -> Tally:
    """Observation rows summed into a day-level `Tally`, chunk by chunk."""
    counts, rings = [], []
    for chunk in chunks:
        if len(chunk):
            chunk_counts, chunk_rings = _tally_chunk(chunk, rules)
            counts.append(chunk_counts)
            rings.append(chunk_rings)
    return Tally.of(counts, rings)


def _tally_chunk(chunk: pd.DataFrame, rules: MetricRules) -> tuple[pd.DataFrame, pd.DataFrame]:
    outcome = chunk["outcome"]
    seen_whole = outcome != CallOutcome.INCOMPLETE
    person = chunk["answered_by_person"] & seen_whole
    unknown = chunk["ring_time_unknown"]
    abandoned = (outcome == CallOutcome.ABANDONED) & ~unknown
    rings_heard = chunk["rings"].fillna(0)
    ring_rule = rules.ring_rule
    uncertain = chunk["ring_seconds"].map(
        lambda seconds: (
            not pd.isna(seconds)
            and ring_rule.verdict_uncertain(seconds, WHOLE_SECONDS_ERROR_SECONDS)
        )
    )
    flags = pd.DataFrame(
        {
            "source": chunk["source"],
            "day": local_days(chunk["started_at"], rules.zone),
            "department": chunk["department"],
            "line": chunk["line"],
            "offered": seen_whole,
            "answered_by_person": person,
            "within_standard": chunk["within_standard"] & person,
            **{name: outcome == name for name in OUTCOME_COUNTS},
            "abandoned_within_standard": abandoned & (rings_heard <= rules.answer_within_rings),
            "short_abandons": abandoned
            & (chunk["ring_seconds"].fillna(0) < rules.short_abandon_seconds),
            "answered_by_ivr": (outcome == CallOutcome.ANSWERED) & ~person,
            "ring_time_unknown": unknown & seen_whole,
            "within_standard_uncertain": person & chunk["whole_seconds"] & uncertain.astype(bool),
            **{
                name: person & (chunk["announced_name"] == heard)
                for heard, name in ANNOUNCED_NAME_COUNTS.items()
            },
        }
    )
    keys = list(TALLY_KEYS)
    counts = flags.groupby(keys, sort=False)[list(COUNTED)].sum().reset_index()
    answered = flags.loc[person & chunk["rings"].notna(), keys]
    answered["rings"] = chunk["rings"]
    rings = answered.groupby([*keys, "rings"], sort=False).size().rename("calls").reset_index()
    return counts, rings


def tally_obligations(obligations: pd.DataFrame, zone: ZoneInfo, now: datetime) -> CallbackTally:
    """Obligation rows (OBLIGATION_COLUMNS) as a `CallbackTally` of the local days of `zone`,
    each obligation judged against its deadline as of `now`."""
    status = obligations["status"]
    called_back = status == CallbackStatus.CALLED_BACK
    due = obligations["deadline_at"] <= pd.Timestamp(now)
    in_time = due & called_back & (obligations["closed_at"] <= obligations["deadline_at"])
    day = local_days(obligations["started_at"], zone)
    keys = {"day": day, "department": obligations["department"], "line": obligations["line"]}
    counts = pd.DataFrame(
        {
            **keys,
            "callbacks_owed": 1,
            "called_back_within_standard": in_time,
            "callbacks_late_or_never": due & ~in_time,
            "callbacks_not_yet_due": ~due,
            "caller_got_through": status == CallbackStatus.CALLER_GOT_THROUGH,
            "callbacks_open": status == CallbackStatus.OPEN,
            "callbacks_overdue": status == CallbackStatus.OVERDUE,
        }
    )
    exact = obligations["working_seconds"].where(called_back)
    latency = (exact / LATENCY_STEP_SECONDS).round() * LATENCY_STEP_SECONDS
    hours = pd.DataFrame({**keys, "hours": latency / SECONDS_PER_HOUR, "obligations": 1})
    return CallbackTally.of(counts, hours[latency.notna()])


def answering_compliance(
    calls: Iterable[CallRecord], by: Sequence[str] = ("department",)
) -> pd.DataFrame:
    """Live calls as one row per group of `by` over all time, METRICS only."""
    rules = MetricRules()
    rows = compliance_rows(tally([live_observations(calls)], rules), None, rules, Period.ALL, by)
    return rows[[*by, *METRICS]]


def _utc(values: pd.Series) -> pd.Series:
    """Aware datetimes as ``datetime64[ns, UTC]``."""
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
