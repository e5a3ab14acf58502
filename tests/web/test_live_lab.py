"""The live page in a real headless Chromium, fed by real calls through the lab Asterisk.

One listener, store writer and live feed for the module, as `ringtest run` wires
them; the page is served by a real uvicorn on port 0. Lab citizens (sipp) ring
the council and the lab's staff answer after the delay each call asks for, so
every ring count has a known truth; the lab's ``staffout`` phone calls a
missed caller back.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from ringtest.config import Settings, load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from ringtest.web.app import build_web_app
from ringtest.web.feed import LiveFeed
from ringtest.web.server import WebServer, feed_for
from tests.ami.test_listener_faults import stopped
from tests.conftest import wait_until
from tests.web.conftest import TOKEN, get

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"live view on (http://127\.0\.0\.1:\d+/)")

ANSWERED_CALLER, MISSED_CALLER = "+441382000161", "+441382000162"
PAGE_WAIT_SECONDS = 30


@dataclass
class LiveLab:
    settings: Settings
    store: Store
    feed: LiveFeed
    server: WebServer


@pytest.fixture(scope="module")
def live(lab, tmp_path_factory) -> Iterator[LiveLab]:
    database = tmp_path_factory.mktemp("live") / "ringtest.db"
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"})
    stream = RecordStream()
    with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
        feed = feed_for(settings, store)
        stream.subscribe("live view", feed.handle)
        stream.subscribe("store", writer.handle)
        writer.notify_stored(lambda changes: feed.refresh_day())
        feed.seed()
        feed.refresh_day()
        listener = make_listener(settings, store, stream)
        feed.health.watch(listener.stats)
        background = BackgroundListener(listener).start()
        server = WebServer(build_web_app(feed), "127.0.0.1", 0).start()
        try:
            yield LiveLab(settings, store, feed, server)
        finally:
            server.stop()
            background.stop()


ROWS_SCRIPT = """
return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)].map((row) => {
  const values = Object.assign({}, row.dataset);
  for (const cell of row.querySelectorAll("td[class]")) values[cell.className] = cell.textContent;
  return values;
});
"""
"""A table's rows as plain values (the page re-renders whole, so elements go stale):
each row's data attributes (callId, department, ...) and its classed cells' text."""


def page_wait(driver) -> WebDriverWait:
    return WebDriverWait(driver, PAGE_WAIT_SECONDS, poll_frequency=0.05)


def rows(driver, table: str, **wanted: str) -> list[dict[str, str]]:
    """The rows of table `table` whose values include `wanted`."""
    found = driver.execute_script(ROWS_SCRIPT, table)
    return [row for row in found if all(row.get(k) == v for k, v in wanted.items())]


def ringing_rings(driver, department: str) -> int | None:
    ringing = rows(driver, "ringing", department=department)
    return int(ringing[0]["rings"]) if ringing else None


def open_page(driver, live: LiveLab) -> None:
    driver.get(live.server.url)
    page_wait(driver).until(lambda d: link_state(d) == "live")


def link_state(driver) -> str:
    return driver.execute_script("return document.getElementById('link').dataset.state")


def test_a_call_rings_in_its_department_counts_up_and_turns_answered_with_its_rings(live, browser):
    open_page(browser, live)
    with ThreadPoolExecutor(max_workers=1) as pool:
        call = pool.submit(lab_call, "2002", answer="9500", caller=ANSWERED_CALLER)
        first = page_wait(browser).until(lambda d: ringing_rings(d, "Housing"))
        counted = page_wait(browser).until(
            lambda d: (rings := ringing_rings(d, "Housing")) is not None and rings > first
        )
        assert counted
        call.result()
    [row] = page_wait(browser).until(
        lambda d: rows(d, "recent", department="Housing", answeredBy="person")
    )
    [stored] = page_wait(browser).until(
        lambda d: [c for c in live.store.calls() if c.caller == ANSWERED_CALLER]
    )
    assert stored.department == "Housing" and stored.rings == 4  # 9.5 s at 3 s a ring
    assert (row["callId"], row["rings"]) == (stored.call_id, "4")
    page_wait(browser).until(
        lambda d: (
            "(1 of 1)"
            in d.execute_script(
                "return document.querySelector('.panel[data-department=\"Housing\"] .within')"
                ".textContent"
            )
        )
    )


def test_a_missed_caller_is_listed_masked_and_leaves_when_staff_call_back(live, browser):
    open_page(browser, live)
    lab_call("2001", answer="never", give_up_ms=2000, caller=MISSED_CALLER)
    [row] = page_wait(browser).until(lambda d: rows(d, "callbacks", department="Council Tax"))
    assert row["caller"] == "+44 1382 ••• 162"
    assert row["met"].startswith("abandoned after ")
    assert MISSED_CALLER not in browser.page_source
    lab_call(MISSED_CALLER, account=STAFFOUT, answer="1000")
    page_wait(browser).until(lambda d: not rows(d, "callbacks", key=row["key"]))
    [done] = rows(browser, "left", key=row["key"])
    assert done["how"] == "called back, connected"


def test_after_the_server_restarts_the_page_reconnects_by_itself(live, browser):
    open_page(browser, live)
    port = live.server.port
    live.server.stop()
    page_wait(browser).until(lambda d: link_state(d) == "reconnecting")
    rendered = browser.execute_script("return document.body.dataset.rendered")
    live.server = WebServer(build_web_app(live.feed), "127.0.0.1", port).start()
    page_wait(browser).until(lambda d: link_state(d) == "live")
    page_wait(browser).until(
        lambda d: d.execute_script("return document.body.dataset.rendered") != rendered
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        call = pool.submit(lab_call, "2004", answer="4000", caller=ANSWERED_CALLER)
        assert page_wait(browser).until(lambda d: ringing_rings(d, "Planning"))
        call.result()


def test_ringtest_listen_serves_the_live_view_with_its_listeners_health(lab, tmp_path):
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ringtest", "-v", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db",
            "RINGTEST_AMI__JOURNAL_DIR": str(tmp_path / "journal"),
            "RINGTEST_WEB__TOKEN": TOKEN,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        logged = []
        while not (serving := SERVING.search("".join(logged))):
            line = daemon.stderr.readline()
            assert line, "the daemon ended without serving: " + "".join(logged)
            logged.append(line)
        server = _Address(int(serving.group(1).rsplit(":", 1)[1].strip("/")))
        bearer = {"Authorization": f"Bearer {TOKEN}"}

        def health() -> dict:
            return json.loads(get(server, "/api/health", headers=bearer)[2])

        connected = wait_until(lambda: (h := health())["connected"] and h, 20, "never connected")
        assert connected["connected_since"] is not None
        assert get(server, "/api/health")[0] == 401
        code, _, stderr = stopped(daemon)
    finally:
        daemon.kill()
    assert code == 0, stderr
    assert TOKEN not in "".join(logged) + stderr


class _Address:
    """What `get` needs of a server: its port."""

    def __init__(self, port: int) -> None:
        self.port = port
