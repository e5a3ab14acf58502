"""Every metric of `compliance_rows`, on small sets of calls worked out by hand.

Each test runs twice: on the row-by-row oracle (`tests.analysis.oracle`) and on
the database's sums of the same records stored in SQLite (`analysis.stored`),
the path the report takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from analysis.compliance import Tally, _quantile, compliance_rows
from analysis.periods import Period, iso_week_bounds
from analysis.stored import stored_callbacks, stored_tally
from ringtest.core.observations import Source
from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.core.standards import MetricRules
from ringtest.store import Store
from tests.analysis.oracle import (
    live_observations,
    obligations_frame,
    ring_test_observations,
    tally,
    tally_obligations,
)

RULES = MetricRules(answer_within_rings=7, short_abandon_seconds=5.0, timezone="Europe/London")
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # ISO week 2026-W47, GMT
AFTER_EVERY_DEADLINE = MONDAY + timedelta(days=30)


def call(n: int, outcome: CallOutcome, ring_seconds: float | None, **extra) -> CallRecord:
    """A live call to Housing; rings by the GB cadence (3 s a ring)."""
    person = outcome is CallOutcome.ANSWERED
    rings = None if ring_seconds is None else math.ceil(ring_seconds / 3.0)
    fields = dict(
        call_id=f"{n}.0", pbx="lab", line="2002", department="Housing",
        caller="+441382000101", dialled="2002", started_at=MONDAY + timedelta(minutes=n),
        ring_started_at=MONDAY, answered_at=MONDAY if person else None,
        answered_by=AnsweredBy.PERSON if person else AnsweredBy.NONE, ended_at=MONDAY,
        ring_seconds=ring_seconds, rings=rings, outcome=outcome,
        within_standard=person and rings is not None and rings <= 7,
    )  # fmt: skip
    return CallRecord(**{**fields, **extra})


def oracle_rows(calls, ring_tests=(), obligations=None, period=Period.ALL,
                now=AFTER_EVERY_DEADLINE, **kwargs):  # fmt: skip
    observations = [live_observations(calls), ring_test_observations(ring_tests)]
    owed = (
        tally_obligations(obligations_frame(obligations, calls), RULES.zone, now)
        if obligations is not None
        else None
    )
    return compliance_rows(tally(observations, RULES), owed, RULES, period, **kwargs)


def database_rows(
    database: Path, calls, ring_tests=(), obligations=None, period=Period.ALL,
    now=AFTER_EVERY_DEADLINE, **kwargs,
) -> pd.DataFrame:  # fmt: skip
    """The same records stored, summed by the database over a range that holds them all."""
    instants = [call.started_at for call in calls] + [test.placed_at for test in ring_tests]
    since = kwargs.get("since") or min(instants, default=MONDAY) - timedelta(days=1)
    until = kwargs.get("until") or max(instants, default=MONDAY) + timedelta(days=1)
    with Store.open(f"sqlite:///{database}") as store:
        store.save_calls(calls)
        for result in ring_tests:
            store.save_ring_test(result)
        for owed in obligations or ():
            store.save_obligation(owed)
        parts = [stored_tally(store, RULES, since, until, source=source) for source in Source]
        owed_sums = stored_callbacks(store, RULES, since, until, now=now)
    counted = Tally.of([part.counts for part in parts], [part.rings for part in parts])
    return compliance_rows(counted, owed_sums, RULES, period, **kwargs)


@pytest.fixture(params=["oracle", "database"])
def rows_of(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., pd.DataFrame]:
    """The compliance rows of some records, by the oracle or by the database's sums."""
    if request.param == "oracle":
        return oracle_rows
    return partial(database_rows, tmp_path / "metrics.db")


def only_row(rows: pd.DataFrame) -> dict:
    [row] = rows.to_dict("records")
    return row


def test_service_levels_and_the_inclusive_rate_on_a_mixed_week(rows_of):
    calls = [
        call(1, CallOutcome.ANSWERED, 6.0),  # 2 rings
        call(2, CallOutcome.ANSWERED, 20.0),  # 7 rings
        call(3, CallOutcome.ANSWERED, 21.5),  # 8 rings: late
        call(4, CallOutcome.ABANDONED, 3.0),  # short abandon, 1 ring
        call(5, CallOutcome.ABANDONED, 30.0),  # 10 rings
        call(6, CallOutcome.VOICEMAIL, 36.0, answered_by=AnsweredBy.VOICEMAIL),
        call(7, CallOutcome.BUSY, None),
    ]
    row = only_row(rows_of(calls))
    assert (row["offered"], row["answered_by_person"], row["within_standard"]) == (7, 3, 2)
    assert row["within_standard_pct"] == pytest.approx(100 * 2 / 7)
    assert row["service_level_pct"] == pytest.approx(100 * 2 / 3)
    assert row["service_level_2_pct"] == pytest.approx(100 * (2 + 1) / (3 + 2))
    assert row["short_abandons"] == 1
    assert row["inclusive_rate_pct"] == pytest.approx(100 * 2 / 6)
    assert (row["abandoned"], row["voicemail"], row["busy"], row["failed"]) == (2, 1, 1, 0)
    assert row["missed"] == 4
    assert (row["median_rings"], row["p90_rings"]) == (7.0, pytest.approx(7.8))


def test_all_abandoned_has_no_service_level_but_an_sl2(rows_of):
    calls = [
        call(1, CallOutcome.ABANDONED, 2.0),
        call(2, CallOutcome.ABANDONED, 10.0),
        call(3, CallOutcome.ABANDONED, 30.0),
    ]
    row = only_row(rows_of(calls))
    assert (row["answered_by_person"], row["within_standard"], row["within_standard_pct"]) == (
        0, 0, 0.0,
    )  # fmt: skip
    assert math.isnan(row["service_level_pct"])
    assert row["service_level_2_pct"] == pytest.approx(100 * 2 / 3)
    assert row["inclusive_rate_pct"] == 0.0
    assert math.isnan(row["median_rings"])
    assert row["wilson_low_pct"] == pytest.approx(0.0, abs=1e-9)
    assert row["wilson_high_pct"] == pytest.approx(56.15, abs=0.01)


def test_a_call_belongs_to_the_local_week_it_started_in(rows_of):
    sunday_late = datetime(2026, 6, 28, 22, 30, tzinfo=UTC)  # Sunday 23:30 BST: week 26
    monday_early = datetime(2026, 6, 28, 23, 30, tzinfo=UTC)  # Monday 00:30 BST: week 27
    calls = [
        call(1, CallOutcome.ANSWERED, 3.0, started_at=sunday_late),
        call(2, CallOutcome.ANSWERED, 30.0, started_at=monday_early),
    ]
    rows = rows_of(calls, period=Period.WEEK)
    assert list(rows["period"]) == ["2026-W26", "2026-W27"]
    assert list(rows["within_standard"]) == [1, 0]
    assert [str(start.date()) for start in rows["period_start"]] == ["2026-06-22", "2026-06-29"]


def test_days_and_months_are_local_too(rows_of):
    new_year = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)  # GMT: still 31 December
    rows = rows_of([call(1, CallOutcome.ANSWERED, 3.0, started_at=new_year)], period=Period.MONTH)
    assert list(rows["period"]) == ["2026-12"]
    rows = rows_of([call(1, CallOutcome.ANSWERED, 3.0, started_at=new_year)], period=Period.DAY)
    assert list(rows["period"]) == ["2026-12-31"]


def test_an_empty_week_in_the_range_is_a_row_with_no_calls(rows_of):
    since, _ = iso_week_bounds("2026-W46", RULES.zone)
    _, until = iso_week_bounds("2026-W48", RULES.zone)
    calls = [
        call(1, CallOutcome.ANSWERED, 3.0, started_at=MONDAY - timedelta(days=7)),
        call(2, CallOutcome.ANSWERED, 3.0, started_at=MONDAY + timedelta(days=7)),
    ]
    rows = rows_of(calls, period=Period.WEEK, since=since, until=until)
    assert list(rows["period"]) == ["2026-W46", "2026-W47", "2026-W48"]
    assert list(rows["offered"]) == [1, 0, 1]
    assert math.isnan(rows["within_standard_pct"][1])
    assert math.isnan(rows["median_rings"][1])


def test_no_calls_at_all_gives_no_rows(rows_of):
    since, until = iso_week_bounds("2026-W47", RULES.zone)
    assert rows_of([], period=Period.WEEK, since=since, until=until).empty


def ring_test(n: int, outcome: RingTestOutcome, rings: int | None, **extra) -> RingTestResult:
    person = outcome is RingTestOutcome.ANSWERED
    fields = dict(
        test_id=f"t{n}", target="2002", account="ringtester", department="Housing",
        placed_at=MONDAY + timedelta(hours=n), outcome=outcome,
        answered_by=AnsweredBy.PERSON if person else AnsweredBy.NONE, pdd_seconds=0.1,
        ring_seconds=None if rings is None else rings * 3.0, tta_seconds=None, rings=rings,
        within_standard=person and rings is not None and rings <= 7, sip_code=200, reason="",
    )  # fmt: skip
    return RingTestResult(**{**fields, **extra})


def test_ring_tests_sit_beside_live_calls_and_never_mix_with_them(rows_of):
    calls = [call(1, CallOutcome.ANSWERED, 3.0), call(2, CallOutcome.ANSWERED, 30.0)]
    tests = [
        ring_test(1, RingTestOutcome.ANSWERED, 9),
        ring_test(2, RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS, 10),
        ring_test(3, RingTestOutcome.NOT_PLACED, None),
        ring_test(4, RingTestOutcome.ANSWERED, 5, answered_by=AnsweredBy.VOICEMAIL,
                  within_standard=False),
    ]  # fmt: skip
    rows = rows_of(calls, tests).set_index("source")
    assert rows.loc["live", "offered"] == 2 and rows.loc["live", "within_standard"] == 1
    tested = rows.loc["ring test"]
    assert (tested["offered"], tested["answered_by_person"], tested["within_standard"]) == (3, 1, 0)
    assert (tested["abandoned"], tested["voicemail"]) == (1, 1)
    assert tested["median_rings"] == 9.0


def obligation(n: int, status: CallbackStatus, hours: float | None, late=False):
    missed = MONDAY + timedelta(minutes=n)
    deadline = missed + timedelta(days=1)
    closed = None if hours is None else deadline + timedelta(hours=1 if late else -1)
    return CallbackObligation(
        call_id=f"{n}.0", pbx="lab", caller="+441382000101", line="2002", department="Housing",
        missed_at=missed, deadline_at=deadline, status=status, closed_at=closed,
        working_seconds=None if hours is None else hours * 3600.0,
    )  # fmt: skip


def test_callbacks_within_the_standard_and_their_latency_in_working_hours(rows_of):
    calls = [call(n, CallOutcome.ABANDONED, 12.0) for n in range(1, 7)]
    owed = [
        obligation(1, CallbackStatus.CALLED_BACK, 1.0),
        obligation(2, CallbackStatus.CALLED_BACK, 3.0),
        obligation(3, CallbackStatus.CALLED_BACK, 9.0, late=True),
        obligation(4, CallbackStatus.CALLER_GOT_THROUGH, 0.5),
        obligation(5, CallbackStatus.OPEN, None),
        obligation(6, CallbackStatus.OVERDUE, None),
    ]
    row = only_row(rows_of(calls, obligations=owed))
    assert (row["missed"], row["callbacks_owed"], row["called_back_within_standard"]) == (6, 6, 2)
    assert row["called_back_within_standard_pct"] == pytest.approx(100 * 2 / 6)
    assert (row["caller_got_through"], row["callbacks_open"], row["callbacks_overdue"]) == (1, 1, 1)
    assert row["median_callback_working_hours"] == 3.0
    assert row["p90_callback_working_hours"] == pytest.approx(7.8)


def test_rows_per_line_within_a_department(rows_of):
    calls = [call(1, CallOutcome.ANSWERED, 3.0), call(2, CallOutcome.ANSWERED, 3.0, line="2012")]
    rows = rows_of(calls, by=("department", "line"))
    assert list(rows["line"]) == ["2002", "2012"]
    assert list(rows["offered"]) == [1, 1]


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 1.0])
def test_quantiles_from_the_histogram_match_pandas(q):
    rings = pd.Series([1, 1, 2, 3, 3, 3, 5, 8, 8, 13], dtype=float)
    counts = rings.value_counts().sort_index()
    from_histogram = _quantile(counts.index.to_numpy(float), counts.to_numpy(int), q)
    assert from_histogram == pytest.approx(rings.quantile(q))
