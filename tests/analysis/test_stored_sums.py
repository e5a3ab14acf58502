"""The database-summed path (`analysis.stored`) gives exactly the rows of the row-level oracle.

Every test runs on real SQLite and PostgreSQL (the store suite's fixtures). The
row-level oracle (`tests.analysis.oracle`: the stored records observed in Python
and counted row by row in pandas) is the reference: the figures must be
identical, not close, on calls around clock changes, local midnights and week
boundaries, with ring tests and callback obligations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analysis.compliance import ANNOUNCED_NAME_COUNTS, Tally, compliance_rows
from analysis.obligations import CallbackTally
from analysis.periods import Period, local_midnight
from analysis.stored import day_buckets, stored_callbacks, stored_tally
from ringtest.core.observations import Source
from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    GreetingAudit,
    Heard,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.core.standards import MetricRules
from ringtest.store import Store
from tests.analysis.oracle import stored_obligations, stored_observations, tally, tally_obligations
from tests.store.conftest import (  # noqa: F401  (fixtures: both databases)
    postgres_admin,
    postgres_schema_url,
    postgres_url,
    store_url,
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:  # noqa: F811
    """An empty store on SQLite, then on PostgreSQL."""
    with Store.open(store_url) as opened:
        yield opened


LONDON = ZoneInfo("Europe/London")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")

# Europe/London: BST began 2026-03-29 01:00 UTC and ends 2026-10-25 01:00 UTC.
SPRING_FORWARD = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
FALL_BACK = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
# America/Sao_Paulo's last DST ended at local midnight 2019-02-17 (00:00 -02 became
# 23:00 -03 on the 16th): the hour after 02:00 UTC is 16 February again.
SAO_PAULO_FALL_BACK = datetime(2019, 2, 17, 2, 0, tzinfo=UTC)

OUTCOMES = (
    (CallOutcome.ANSWERED, AnsweredBy.PERSON),
    (CallOutcome.ABANDONED, AnsweredBy.NONE),
    (CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL),
    (CallOutcome.BUSY, AnsweredBy.NONE),
    (CallOutcome.FAILED, AnsweredBy.NONE),
    (CallOutcome.INCOMPLETE, AnsweredBy.NONE),
    (CallOutcome.ANSWERED, AnsweredBy.IVR),
)
LINES = (("2001", "Council Tax"), ("2002", "Housing"), ("2012", "Housing"))


def call(n: int, at: datetime, **overrides) -> CallRecord:
    """Call n at `at`, its outcome, line and ring time varied by n (some unknown)."""
    outcome, answered_by = OUTCOMES[n % len(OUTCOMES)]
    line, department = LINES[n % len(LINES)]
    ring_seconds = None if n % 11 == 5 else (n * 2.7) % 40
    rings = None if ring_seconds is None or n % 13 == 4 else math.ceil(ring_seconds / 3.0)
    person = answered_by is AnsweredBy.PERSON
    cdr = "imported from Asterisk CDR Master.csv, whole seconds"
    note = f"{cdr}, ring time not in the CDR" if ring_seconds is None and n % 2 else None
    note = note or (cdr if n % 3 == 0 else None)
    fields = dict(
        call_id=f"{n}.1", pbx="lab", line=line, department=department,
        caller=f"+4413820001{n % 100:02d}", dialled=line, started_at=at, ring_started_at=at,
        answered_at=at if person else None, answered_by=answered_by, ended_at=at,
        ring_seconds=ring_seconds, rings=rings, outcome=outcome,
        within_standard=person and rings is not None and rings <= 7, is_test_call=n % 17 == 3,
        gap_note=note,
    )  # fmt: skip
    return CallRecord(**{**fields, **overrides})


def instants_around(edge: datetime) -> list[datetime]:
    """Instants just before, at and after `edge`, and through the hours around it."""
    tiny = [timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1),
            timedelta(seconds=-1), timedelta(seconds=59.5)]  # fmt: skip
    hourly = [timedelta(minutes=37 * k) for k in range(-8, 9)]
    return [edge + step for step in tiny + hourly]


def week_edges(zone: ZoneInfo, *mondays: str) -> list[datetime]:
    """Local midnights of those Mondays, and of the days around them, in UTC."""
    days = [datetime.fromisoformat(monday).date() for monday in mondays]
    return [local_midnight(day + timedelta(days=k), zone) for day in days for k in (-1, 0, 1, 3)]


def fill(store: Store, instants: list[datetime]) -> list[CallRecord]:
    """Calls at `instants`, an obligation for every missed caller, ring tests among them."""
    calls = [call(n, at) for n, at in enumerate(instants)]
    store.save_calls(calls)
    statuses = list(CallbackStatus)
    for n, missed in enumerate(c for c in calls if c.outcome is not CallOutcome.ANSWERED):
        status = statuses[n % len(statuses)]
        closed = missed.started_at + timedelta(hours=n % 30) if n % 3 else None
        store.save_obligation(
            CallbackObligation(
                call_id=missed.call_id if n % 9 else f"gone-{n}",
                pbx="lab",
                caller=missed.caller,
                line=missed.line,
                department=missed.department,
                missed_at=missed.started_at + timedelta(minutes=n % 50),
                deadline_at=missed.started_at + timedelta(hours=24),
                status=status,
                closed_at=closed,
                working_seconds=None if n % 7 == 2 else (n * 1234.5) % 90000,
            )  # fmt: skip
        )
    for n, at in enumerate(instants[::5]):
        store.save_ring_test(
            RingTestResult(
                test_id=f"t{n}",
                target="2002",
                account="ringtester",
                department="Housing",
                placed_at=at,
                outcome=list(RingTestOutcome)[n % len(RingTestOutcome)],
                answered_by=AnsweredBy.PERSON if n % 2 else AnsweredBy.NONE,
                pdd_seconds=0.1,
                ring_seconds=3.0 * (n % 10),
                tta_seconds=None,
                rings=n % 10,
                within_standard=n % 10 <= 7,
                sip_code=200,
                reason="",
            )  # fmt: skip
        )
        if n % 4:  # every verdict, on tests a person answered and on tests nobody did
            store.save_greeting_audit(
                GreetingAudit(f"t{n}", "", list(Heard)[n % 3], Heard.UNSURE, at)
            )
    return calls


def both_paths(
    store: Store, rules: MetricRules, since: datetime, until: datetime, department=None
) -> tuple[tuple[Tally, CallbackTally], tuple[Tally, CallbackTally]]:
    """(database sums, row-level reference), live calls and ring tests in both tallies;
    callbacks as of the middle of the range, so every callback state occurs."""
    now = since + (until - since) / 2
    parts = [stored_tally(store, rules, since, until, department, source) for source in Source]
    summed = Tally.of([part.counts for part in parts], [part.rings for part in parts])
    reference = tally([stored_observations(store, since, until, department)], rules)
    owed_rows = stored_obligations(store, since, until, department)
    return (
        (summed, stored_callbacks(store, rules, since, until, department, now=now)),
        (reference, tally_obligations(owed_rows, rules.zone, now)),
    )


def assert_same_rows(store: Store, rules: MetricRules, since: datetime, until: datetime) -> None:
    (summed, summed_owed), (reference, reference_owed) = both_paths(store, rules, since, until)
    assert len(summed.counts) and len(summed_owed.hours)
    states = ["called_back_within_standard", "callbacks_late_or_never", "callbacks_not_yet_due"]
    assert (summed_owed.counts[states].sum() > 0).all()
    assert (summed.counts[list(ANNOUNCED_NAME_COUNTS.values())].sum() > 0).all()
    for ours, theirs in ((summed.counts, reference.counts), (summed.rings, reference.rings),
                         (summed_owed.counts, reference_owed.counts),
                         (summed_owed.hours, reference_owed.hours)):  # fmt: skip
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))
    for period in Period:
        for by in (("department",), ("department", "line")):
            ours = compliance_rows(summed, summed_owed, rules, period, by, since, until)
            theirs = compliance_rows(reference, reference_owed, rules, period, by, since, until)
            pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_weeks_with_both_clock_changes_give_identical_rows(store: Store):
    edges = [SPRING_FORWARD, FALL_BACK, *week_edges(LONDON, "2026-03-23", "2026-03-30",
                                                   "2026-10-19", "2026-10-26")]  # fmt: skip
    fill(store, [at for edge in edges for at in instants_around(edge)])
    rules = MetricRules(timezone="Europe/London")
    assert_same_rows(store, rules, local_midnight(datetime(2026, 3, 23).date(), LONDON),
                     local_midnight(datetime(2026, 11, 2).date(), LONDON))  # fmt: skip


def test_a_midnight_that_happens_twice_gives_identical_rows(store: Store):
    calls = fill(store, instants_around(SAO_PAULO_FALL_BACK) + week_edges(SAO_PAULO, "2019-02-11"))
    rules = MetricRules(timezone="America/Sao_Paulo")
    since = local_midnight(datetime(2019, 2, 4).date(), SAO_PAULO)
    until = local_midnight(datetime(2019, 3, 4).date(), SAO_PAULO)
    assert_same_rows(store, rules, since, until)
    summed = stored_tally(store, rules, since, until).counts
    sixteenth = datetime(2019, 2, 16).date()
    on_the_16th = [c for c in calls if not c.is_test_call
                   and c.started_at.astimezone(SAO_PAULO).date() == sixteenth]  # fmt: skip
    assert any(c.started_at > SAO_PAULO_FALL_BACK for c in on_the_16th)  # the repeated hour
    day = summed[summed["day"] == pd.Timestamp("2019-02-16")]
    assert day["offered"].sum() + day["incomplete"].sum() == len(on_the_16th)


def test_a_narrower_range_and_one_department_give_identical_rows(store: Store):
    fill(store, [at for edge in week_edges(LONDON, "2026-10-26") for at in instants_around(edge)])
    rules = MetricRules(timezone="Europe/London", short_abandon_seconds=10.0)
    since = local_midnight(datetime(2026, 10, 27).date(), LONDON)
    until = local_midnight(datetime(2026, 10, 29).date(), LONDON)
    (summed, summed_owed), (reference, reference_owed) = both_paths(
        store, rules, since, until, "Housing"
    )
    assert set(summed.counts["department"]) == {"Housing"}
    pd.testing.assert_frame_equal(summed.counts, reference.counts)
    pd.testing.assert_frame_equal(summed_owed.counts, reference_owed.counts)
    assert summed.counts["day"].min() == pd.Timestamp("2026-10-27")
    assert summed.counts["day"].max() == pd.Timestamp("2026-10-28")


def test_a_range_starting_just_after_a_clock_change_gives_identical_days(store: Store):
    # Atlantic/Azores went from -01:00 to +00:00 at 01:00 UTC: the range sees +00:00 only,
    # but a day-wide bucket from 00:00 UTC would begin on the 28th, local time.
    since = datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    fill(store, instants_around(since) + instants_around(since + timedelta(hours=22)))
    rules = MetricRules(timezone="Atlantic/Azores")
    until = since + timedelta(days=2)
    (summed, summed_owed), (reference, reference_owed) = both_paths(store, rules, since, until)
    assert summed.counts["day"].min() == pd.Timestamp("2026-03-29")
    pd.testing.assert_frame_equal(summed.counts, reference.counts)
    pd.testing.assert_frame_equal(summed_owed.counts, reference_owed.counts)


def test_no_calls_in_the_range_gives_empty_tallies(store: Store):
    fill(store, instants_around(FALL_BACK))
    rules = MetricRules()
    since = datetime(2027, 1, 4, tzinfo=UTC)
    until = since + timedelta(days=7)
    assert stored_tally(store, rules, since, until).counts.empty
    assert stored_callbacks(store, rules, since, until, now=until).counts.empty
    rows = compliance_rows(stored_tally(store, rules, since, until),
                           stored_callbacks(store, rules, since, until, now=until), rules,
                           Period.WEEK, since=since, until=until)  # fmt: skip
    assert rows.empty


BST_BEGINS_2026 = int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp())
AZORES_CHANGE_2026 = int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("zone", "since", "offset_seconds", "offset_changes"),
    [
        ("UTC", datetime(2026, 3, 23, tzinfo=UTC), 0, ()),
        ("Europe/London", datetime(2026, 1, 5, tzinfo=UTC), 0, ()),  # GMT all along
        ("Europe/London", datetime(2026, 3, 23, tzinfo=UTC), 0, ((BST_BEGINS_2026, 3_600),)),
        ("Atlantic/Azores", datetime(2026, 3, 29, 2, tzinfo=UTC), -3_600,
         ((AZORES_CHANGE_2026, 0),)),  # changed at 01:00, the day before the range
        ("Asia/Kolkata", datetime(2026, 3, 23, tzinfo=UTC), 19_800, ()),
        ("Asia/Kathmandu", datetime(2026, 3, 23, tzinfo=UTC), 20_700, ()),
        ("Africa/Monrovia", datetime(1971, 1, 4, tzinfo=UTC), -2_670, ()),  # -00:44:30
    ],
)  # fmt: skip
def test_buckets_are_local_days_by_the_zones_offsets(zone, since, offset_seconds, offset_changes):
    grid = day_buckets(since, since + timedelta(weeks=2), ZoneInfo(zone))
    assert grid.buckets.width == 86_400
    assert (grid.buckets.offset_seconds, grid.buckets.offset_changes) == (
        offset_seconds, offset_changes,
    )  # fmt: skip
    local_since = since.timestamp() + offset_seconds
    assert grid.buckets.origin <= local_since
    assert grid.buckets.origin % 86_400 == 0, "a bucket starts at a local midnight"
