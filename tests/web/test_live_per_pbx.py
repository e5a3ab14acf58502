"""The live view with several PBXs (issue 16): beside the departments, a row per PBX with
its ringing calls, today's figures of its live calls and the callbacks it owes, in the
JSON snapshot and on the page (a real headless Chromium); none with a single PBX."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from analysis.live_view import pbxs_view
from ringtest.config.adapters import metric_rules_of, standards_of
from ringtest.core.stream import CallRinging
from ringtest.store import Store
from ringtest.web.app import build_web_app
from ringtest.web.feed import LiveFeed
from ringtest.web.server import WebServer
from tests.analysis.test_report_per_pbx import MONDAY_10AM, fill_two_sites
from tests.test_several_pbxs import two_sites

NOON = MONDAY_10AM + timedelta(hours=2)


def two_site_feed(tmp_path, store: Store) -> LiveFeed:
    settings = two_sites(tmp_path)
    return LiveFeed(
        store, standards_of(settings), metric_rules_of(settings),
        [line.department for line in settings.lines], pbxs=settings.pbx_names(),
        clock=lambda: NOON,
    )  # fmt: skip


def ringing_on_north(seconds_ago: float) -> CallRinging:
    return CallRinging(
        "north.9", "north", "2001", "Council Tax", "+441382000100", False,
        NOON - timedelta(seconds=seconds_ago),
    )  # fmt: skip


def test_each_pbx_has_its_row_of_today_and_now(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        fill_two_sites(store)
        feed = two_site_feed(tmp_path, store)
        feed.seed()
        feed.refresh_day()
        feed.handle([ringing_on_north(10.0)])
        rows = {row["pbx"]: row for row in feed.snapshot()["pbxs"]}
    assert list(rows) == ["north", "south"]
    north, south = rows["north"], rows["south"]
    assert (north["offered"], north["within_standard"], north["within_standard_pct"]) == (
        2, 2, 100.0,
    )  # fmt: skip
    assert (north["ringing"], north["longest_wait_rings"]) == (1, 4), "rings begin every 3 s"
    assert (south["offered"], south["missed"], south["within_standard_pct"]) == (2, 1, 50.0)
    assert (south["ringing"], south["callbacks_owed_now"]) == (0, 1)
    assert north["callbacks_owed_now"] == 0


def test_with_one_pbx_the_departments_are_its_figures_and_no_pbx_row_is_shown(feed):
    feed.refresh_day()
    assert feed.snapshot()["pbxs"] == []
    assert pbxs_view(feed.board, NOON) == []


def test_the_page_shows_a_row_per_pbx(tmp_path, browser):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        fill_two_sites(store)
        feed = two_site_feed(tmp_path, store)
        feed.seed()
        feed.refresh_day()
        server = WebServer(build_web_app(feed, None), "127.0.0.1", 0).start()
        try:
            browser.get(f"http://127.0.0.1:{server.port}/")
            WebDriverWait(browser, 10).until(
                lambda d: d.execute_script("return document.body.dataset.rendered")
            )
            assert browser.find_element(By.ID, "pbxs-section").is_displayed()
            south = browser.find_element(By.CSS_SELECTOR, '#pbxs tr[data-pbx="south"]')
            assert south.find_element(By.CLASS_NAME, "within").text == "50.0 % (1 of 2)"
            assert south.find_element(By.CLASS_NAME, "owed").text == "1"
        finally:
            server.stop()
