"""The live view's day equals the weekly report's figures for that day, on the same store."""

from __future__ import annotations

from datetime import date

import pytest

from analysis.live_day import DAY_COUNTS, day_bounds, day_figures, local_today
from analysis.report_data import gather_report
from ringtest.config.adapters import metric_rules_of
from ringtest.core.observations import Source
from tests.analysis.conftest import AFTER_WEEK_47, DEPARTMENTS, WEEK_47_MONDAY

MONDAY, TUESDAY = date(2026, 11, 16), date(2026, 11, 17)


@pytest.mark.parametrize("day", [MONDAY, TUESDAY])
def test_a_finished_day_shows_the_weekly_reports_figures(council, day):
    settings, store = council
    rules = metric_rules_of(settings)
    since, until = day_bounds(day, rules)
    report = gather_report(settings, store, since, until, "day", str(day), now=AFTER_WEEK_47)
    live = day_figures(store, rules, DEPARTMENTS, day, now=AFTER_WEEK_47)
    for source, row in report.rows.set_index(["source", "department"]).iterrows():
        figures = live[source[1]]
        if source[0] == Source.LIVE:
            assert {name: int(row[name]) for name in DAY_COUNTS} == dict(figures.counts)
            expected = None if row["offered"] == 0 else row["within_standard_pct"]
            assert figures.within_standard_pct == pytest.approx(expected)
        else:
            assert (figures.ring_tests, figures.ring_tests_within_standard) == (
                int(row["offered"]),
                int(row["within_standard"]),
            )


def test_mondays_figures_are_the_stored_calls(council):
    settings, store = council
    live = day_figures(store, metric_rules_of(settings), DEPARTMENTS, MONDAY, now=AFTER_WEEK_47)
    tax = live["Council Tax"]
    assert (tax.counts["offered"], tax.counts["within_standard"], tax.counts["missed"]) == (5, 3, 1)
    assert tax.within_standard_pct == pytest.approx(60.0)
    assert live["Switchboard"].counts["offered"] == 0
    assert live["Switchboard"].within_standard_pct is None


def test_tuesdays_ring_tests_carry_their_outcomes(council):
    settings, store = council
    live = day_figures(store, metric_rules_of(settings), DEPARTMENTS, TUESDAY, now=AFTER_WEEK_47)
    housing = live["Housing"]
    assert (housing.ring_tests, housing.ring_tests_within_standard) == (2, 1)
    assert housing.ring_test_outcomes == {"answered": 2}


def test_today_is_the_calendars_local_date(council):
    settings, _ = council
    rules = metric_rules_of(settings)
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST)
    late = WEEK_47_MONDAY.replace(year=2026, month=5, day=31, hour=23, minute=30)
    assert local_today(late, rules) == date(2026, 6, 1)
    since, until = day_bounds(date(2026, 3, 29), rules)  # the clocks go forward
    assert (until - since).total_seconds() == 23 * 3600
