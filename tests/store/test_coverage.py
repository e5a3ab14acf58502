"""Contract: coverage gaps and the listener's last sight of its PBX, on both databases;
the new tables appear in a database written before them; `coverage_share` is exact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from ringtest.core.records import CoverageGap, GapReason
from ringtest.store import Store, schema
from ringtest.store.coverage import coverage_share
from tests.store.builders import MONDAY_9AM
from tests.store.schema_v1 import RING_TEST_COLUMNS_ADDED_IN_0010

HOUR = timedelta(hours=1)


def gap(start_hours: float, end_hours: float, reason=GapReason.LINK_LOST, pbx="town-hall"):
    return CoverageGap(pbx, MONDAY_9AM + start_hours * HOUR, MONDAY_9AM + end_hours * HOUR, reason)


def test_gaps_come_back_equal_oldest_first(store: Store):
    given = [gap(2, 3, GapReason.PBX_RESTARTED), gap(0, 1, GapReason.LISTENER_DOWN)]

    store.save_gaps(given)

    assert store.gaps() == [given[1], given[0]]
    assert type(store.gaps()[0].reason) is GapReason


def test_a_period_lists_every_gap_that_overlaps_it_whole(store: Store):
    before, across_start, inside, across_end, after = (
        gap(0, 1),
        gap(1.5, 2.5),
        gap(3, 4),
        gap(4.5, 6),
        gap(6, 7),
    )
    store.save_gaps([before, across_start, inside, across_end, after])

    listed = store.gaps(since=MONDAY_9AM + 2 * HOUR, until=MONDAY_9AM + 6 * HOUR)

    assert listed == [across_start, inside, across_end]


def test_gaps_of_one_pbx(store: Store):
    store.save_gaps([gap(0, 1), gap(0, 1, pbx="depot")])

    assert [g.pbx for g in store.gaps(pbx="depot")] == ["depot"]


def test_the_listener_seen_instant_is_kept_per_pbx_and_never_moves_back(store: Store):
    assert store.listener_seen_until("town-hall") is None

    store.save_listener_seen("town-hall", MONDAY_9AM + HOUR)
    store.save_listener_seen("town-hall", MONDAY_9AM)
    store.save_listener_seen("depot", MONDAY_9AM)

    assert store.listener_seen_until("town-hall") == MONDAY_9AM + HOUR
    assert store.listener_seen_until("depot") == MONDAY_9AM


def test_a_database_written_before_the_gap_tables_gets_them_when_upgraded(store_url: str):
    with Store.open(store_url) as first, first.engine.begin() as connection:
        added_after_0002 = (
            schema.coverage_gaps,
            schema.listener_state,
            schema.unmatched_inbound_calls,
            schema.gap_fills,
            schema.import_watermarks,
            schema.greeting_audits,
        )
        for table in added_after_0002:
            connection.execute(text(f"DROP TABLE {table.name}"))
        for column in RING_TEST_COLUMNS_ADDED_IN_0010:
            connection.execute(text(f"ALTER TABLE ring_tests DROP COLUMN {column}"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        assert not inspect(connection).has_table("coverage_gaps")

    with Store.open(store_url, upgrade=True) as reopened:
        reopened.save_gaps([gap(0, 1)])
        reopened.save_listener_seen("town-hall", MONDAY_9AM)
        assert reopened.gaps() == [gap(0, 1)]


# coverage_share: the share of a period inside no gap (pure).

DAY = (MONDAY_9AM, MONDAY_9AM + 24 * HOUR)


@pytest.mark.parametrize(
    ("gaps", "share"),
    [
        ([], 1.0),
        ([gap(0, 6)], 0.75),
        ([gap(0, 6), gap(3, 9)], 1 - 9 / 24),
        ([gap(2, 3), gap(2.5, 2.75)], 1 - 1 / 24),
        ([gap(-5, 1), gap(23, 30)], 1 - 2 / 24),
        ([gap(-5, -1), gap(24, 30)], 1.0),
        ([gap(-1, 25)], 0.0),
    ],
    ids=["none", "a quarter", "overlapping", "nested", "across both ends", "outside", "all"],
)
def test_coverage_share_counts_each_blind_instant_once(gaps, share):
    assert coverage_share(gaps, *DAY) == pytest.approx(share, abs=1e-12)


def test_an_empty_period_is_fully_covered():
    assert coverage_share([gap(0, 1)], MONDAY_9AM, MONDAY_9AM) == 1.0
