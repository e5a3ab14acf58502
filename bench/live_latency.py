"""Event-to-screen latency of the live view: the AMI event's Timestamp to the browser's DOM.

sipp places calls into the lab PBX (`bench.lab_traffic`: the `citizen` account to
2001 and 2002, answered after 200-500 ms) at `RATE_PER_SECOND`. ringtest listens
as `ringtest run` wires it (listener -> record stream -> store writer and the
live feed), serves the live view on port 0, and a real headless Chromium shows
the page. A MutationObserver in the page notes, for each call id, when its row
first appears in "Ringing now" (``performance.timeOrigin + performance.now()``,
epoch milliseconds). The latency of a call is that instant less the call's
`ring_started_at` as stored, which is the PBX's own ``Timestamp:`` of the
ringing event (lab PBX, listener and browser share this machine's clock).

Calls whose ringing row never showed (answered before a push reached the page)
are counted apart, never as zero.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from bench.lab_traffic import place_calls
from bench.results import machine_line, quick_mode, table, write_section
from ringtest.config import load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.pbx import lab_up
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from ringtest.web.app import build_web_app
from ringtest.web.server import WebServer, feed_for

RATE_PER_SECOND, CALLS = 5, 250
QUICK_RATE_PER_SECOND, QUICK_CALLS = 5, 50
CALLER = "+441382000191"
"""The lab citizen number this benchmark's calls present (no other bench or test uses it)."""
SETTLE_SECONDS = 20.0
GOAL_P99_MS, STRETCH_P99_MS = 500.0, 100.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

OBSERVE_SCRIPT = """
window.firstSeen = {};
const body = document.querySelector("#ringing tbody");
const note = () => {
  const at = performance.timeOrigin + performance.now();
  for (const row of body.querySelectorAll("tr")) {
    if (!(row.dataset.callId in window.firstSeen)) window.firstSeen[row.dataset.callId] = at;
  }
};
new MutationObserver(note).observe(body, {childList: true});
"""


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile of `values`, linear between ranks (as pandas does)."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def chromium(profile: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def main() -> None:
    """Measure the live view's event-to-screen latency on the lab and write its section."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    rate, calls = (QUICK_RATE_PER_SECOND, QUICK_CALLS) if quick_mode() else (RATE_PER_SECOND, CALLS)
    lab_up()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-latency-") as work:
        settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{work}/live.db"})
        stream = RecordStream()
        with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
            feed = feed_for(settings, store)
            stream.subscribe("live view", feed.handle)
            stream.subscribe("store", writer.handle)
            listener = make_listener(settings, store, stream)
            feed.health.watch(listener.stats)
            background = BackgroundListener(listener).start()
            server = WebServer(build_web_app(feed), "127.0.0.1", 0).start()
            browser = chromium(f"{work}/profile")
            try:
                browser.get(server.url)
                deadline = time.monotonic() + 10
                while browser.execute_script("return document.body.dataset.rendered") is None:
                    assert time.monotonic() < deadline, "the page never rendered"
                    time.sleep(0.05)
                browser.execute_script(OBSERVE_SCRIPT)
                ok, failed, sipp_error = place_calls(rate, calls, CALLER)
                settle = time.monotonic() + SETTLE_SECONDS
                while True:
                    records = [c for c in store.calls() if c.caller == CALLER]
                    if len(records) >= ok + failed or time.monotonic() > settle:
                        break
                    time.sleep(0.2)
                seen = browser.execute_script("return window.firstSeen")
            finally:
                browser.quit()
                server.stop()
                background.stop()
                writer.close()
    elapsed = time.monotonic() - started
    latencies = [
        seen[record.call_id] - record.ring_started_at.timestamp() * 1000
        for record in records
        if record.ring_started_at is not None and record.call_id in seen
    ]
    unseen = sum(record.call_id not in seen for record in records)
    if not latencies:
        raise SystemExit(f"no call was shown ringing ({len(records)} stored): nothing to measure")
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    rows = [
        (
            rate,
            ok + failed,
            len(records),
            len(latencies),
            unseen,
            f"{p50:.1f}",
            f"{p99:.1f}",
            f"{max(latencies):.1f}",
        )
    ]
    verdict = (
        "meets the stretch goal"
        if p99 < STRETCH_P99_MS
        else "meets the goal"
        if p99 < GOAL_P99_MS
        else "misses the goal"
    )
    section = "\n\n".join(
        [
            "## Live view: event to screen",
            "Command: `.venv/bin/python -m bench.live_latency` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; took {elapsed:.0f} s.",
            f"sipp from `citizen` to 2001/2002 at {rate} calls/s, staff answer after 200-500 ms; "
            "the listener, store writer and live feed wired as `ringtest run` wires them, the page "
            "in headless Chromium. Latency: the ringing event's AMI `Timestamp` (the stored "
            "`ring_started_at`) to the call's row first in the page's DOM (MutationObserver). "
            f"Goal p99 < {GOAL_P99_MS:.0f} ms, stretch {STRETCH_P99_MS:.0f} ms."
            + (f" sipp's most frequent error: `{sipp_error}`." if sipp_error else ""),
            table(
                [
                    "calls/s",
                    "placed",
                    "stored",
                    "shown ringing",
                    "never shown ringing",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                ],
                rows,
            ),
            f"p99 {p99:.1f} ms: {verdict}.",
        ]
    )
    write_section("live-latency", section)
    print(section)


if __name__ == "__main__":
    main()
