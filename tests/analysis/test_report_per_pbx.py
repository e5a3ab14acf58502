"""The weekly report per PBX and combined (issue 16, several PBXs): `report --pbx north`
shows the north site's calls, callbacks and coverage and the ring tests of its
departments; without it, every PBX together."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analysis.report_data import gather_report
from ringtest.core.errors import ConfigError
from ringtest.core.observations import Source
from ringtest.core.records import CallbackStatus, CallOutcome, CoverageGap, GapReason
from ringtest.store import Store
from tests.store.builders import call_record, obligation, ring_test_result
from tests.test_several_pbxs import two_sites

WEEK_2026_W48 = datetime(2026, 11, 23, tzinfo=UTC)
"""Monday 00:00 of week 2026-W48 (London is on UTC in November)."""
MONDAY_10AM = WEEK_2026_W48 + timedelta(hours=10)
AFTER_IT = WEEK_2026_W48 + timedelta(days=14)


def call_on(pbx: str, department: str, n: int, outcome=CallOutcome.ANSWERED):
    answered = outcome is CallOutcome.ANSWERED
    return call_record(
        call_id=f"{pbx}.{n}", pbx=pbx, line="2001", department=department,
        started_at=MONDAY_10AM + timedelta(minutes=n), is_test_call=False, outcome=outcome,
        within_standard=answered, rings=2, ring_seconds=6.0,
        **({} if answered else {"answered_by": "none", "answered_at": None}),
    )  # fmt: skip


def fill_two_sites(store: Store) -> None:
    """North (Council Tax): two calls answered within the standard. South (Housing): one
    answered, one missed and owed a call back."""
    store.save_calls([
        call_on("north", "Council Tax", 1), call_on("north", "Council Tax", 2),
        call_on("south", "Housing", 3), call_on("south", "Housing", 4, CallOutcome.ABANDONED),
    ])  # fmt: skip
    store.save_obligation(
        obligation(call_id="south.4", pbx="south", line="2001", department="Housing",
                   missed_at=MONDAY_10AM, deadline_at=MONDAY_10AM + timedelta(days=1),
                   status=CallbackStatus.OPEN, closed_at=None, closing_call_id=None,
                   connected=None, working_seconds=None)
    )  # fmt: skip


@pytest.fixture
def two_site_store(tmp_path):
    """`fill_two_sites`, a listener gap of a day on south, and a ring test to each
    department."""
    settings = two_sites(tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        fill_two_sites(store)
        store.save_gaps([CoverageGap("south", MONDAY_10AM, MONDAY_10AM + timedelta(days=1),
                                     GapReason.LINK_LOST)])  # fmt: skip
        for n, department in enumerate(("Council Tax", "Housing")):
            store.save_ring_test(
                ring_test_result(test_id=f"t{n}", department=department, target=department,
                                 placed_at=MONDAY_10AM + timedelta(hours=1))
            )  # fmt: skip
        yield settings, store


def report_of(settings, store, pbx=None):
    return gather_report(
        settings, store, WEEK_2026_W48, WEEK_2026_W48 + timedelta(days=7), "Week 48",
        "week 2026-W48", now=AFTER_IT, pbx=pbx,
    )  # fmt: skip


def rows_by_department(data, source: Source) -> dict[str, pd.Series]:
    rows = data.rows[data.rows["source"] == source]
    return {row["department"]: row for _, row in rows.iterrows()}


def test_the_north_report_shows_north_calls_and_the_ring_tests_of_its_departments_only(
    two_site_store,
):
    settings, store = two_site_store
    data = report_of(settings, store, pbx="north")
    live = rows_by_department(data, Source.LIVE)
    assert list(live) == ["Council Tax"]
    assert (live["Council Tax"]["offered"], live["Council Tax"]["within_standard"]) == (2, 2)
    assert live["Council Tax"]["callbacks_owed"] == 0
    assert live["Council Tax"]["coverage_pct"] == 100.0, "south's gap is not north's"
    assert list(rows_by_department(data, Source.RING_TEST)) == ["Council Tax"]


def test_the_south_report_has_its_missed_call_owed_and_its_own_gap(two_site_store):
    settings, store = two_site_store
    data = report_of(settings, store, pbx="south")
    housing = rows_by_department(data, Source.LIVE)["Housing"]
    assert (housing["offered"], housing["missed"], housing["callbacks_owed"]) == (2, 1, 1)
    assert housing["coverage_pct"] == pytest.approx(100.0 * (1 - 1 / 7))
    assert list(rows_by_department(data, Source.RING_TEST)) == ["Housing"]


def test_the_combined_report_is_both_pbxs_together(two_site_store):
    settings, store = two_site_store
    data = report_of(settings, store)
    live = rows_by_department(data, Source.LIVE)
    assert sorted(live) == ["Council Tax", "Housing"]
    assert sum(row["offered"] for row in live.values()) == 4
    assert sorted(rows_by_department(data, Source.RING_TEST)) == ["Council Tax", "Housing"]


def test_a_report_of_a_pbx_nobody_configured_names_the_known_ones(two_site_store):
    settings, store = two_site_store
    with pytest.raises(ConfigError, match="no PBX is named 'west': use one of north, south"):
        report_of(settings, store, pbx="west")


def ringtest_report(tmp_path, *args: str) -> subprocess.CompletedProcess:
    config = ["--config", str(tmp_path / "ringtest.toml")]
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *config, "report", "--week", "2026-W48", *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "RINGTEST_DB": f"sqlite:///{tmp_path / 'ringtest.db'}"},
    )  # fmt: skip


def test_report_pbx_writes_the_pbx_report_and_refuses_an_unknown_pbx_in_one_line(
    two_site_store, tmp_path
):
    out = tmp_path / "out"
    done = ringtest_report(tmp_path, "--pbx", "north", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = " ".join(csv.read_text() for csv in out.glob("*.csv"))
    assert "Council Tax" in written and "Housing" not in written

    refused = ringtest_report(tmp_path, "--pbx", "west")
    assert refused.returncode != 0
    assert "no PBX is named 'west'" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
