"""A small stored council for report tests: three departments, three weeks of calls."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from ringtest.config import Settings, load_settings
from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.store import Store

LAB_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lab.toml"
WEEK_47_MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
AFTER_WEEK_47 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""A report's `now` after every deadline of week 47's callbacks."""
DEPARTMENTS = sorted(
    ("Switchboard", "Council Tax", "Housing", "Benefits", "Planning", "Licensing", "Reception",
     "Customer Services", "Out of order", "Permits", "Environmental Health", "Information")
)  # fmt: skip
"""The departments of examples/lab.toml's [[lines]]."""
CALLER = "+441382000155"
"""The one caller number in the stored calls: no public output may show it."""

# (department, line, ring seconds of answered calls, ring seconds of abandoned calls)
WEEK_47 = (
    ("Council Tax", "2001", (3.0, 6.0, 9.0, 30.0), (12.0,)),
    ("Housing", "2002", (3.0, 25.0), ()),
    ("Planning", "2004", (), (40.0,)),
)


def stored_call(n: int, department: str, line: str, at: datetime, ring_seconds: float,
                answered: bool) -> CallRecord:  # fmt: skip
    rings = -(-round(ring_seconds * 1000) // 3000)
    return CallRecord(
        call_id=f"{n}.1", pbx="lab", line=line, department=department, caller=CALLER,
        dialled=line, started_at=at, ring_started_at=at,
        answered_at=at + timedelta(seconds=ring_seconds) if answered else None,
        answered_by=AnsweredBy.PERSON if answered else AnsweredBy.NONE,
        ended_at=at + timedelta(seconds=ring_seconds + 30), ring_seconds=ring_seconds,
        rings=rings, outcome=CallOutcome.ANSWERED if answered else CallOutcome.ABANDONED,
        within_standard=answered and rings <= 7,
    )  # fmt: skip


def fill(store: Store) -> None:
    """Week 2026-W47 as in WEEK_47, one answered Council Tax call in W45, ring tests in W47."""
    calls, n = [], 0
    for department, line, answered, abandoned in WEEK_47:
        for ring_seconds, was_answered in [(s, True) for s in answered] + [
            (s, False) for s in abandoned
        ]:
            n += 1
            at = WEEK_47_MONDAY + timedelta(hours=n)
            calls.append(stored_call(n, department, line, at, ring_seconds, was_answered))
    calls.append(stored_call(99, "Council Tax", "2001", WEEK_47_MONDAY - timedelta(days=14),
                             3.0, True))  # fmt: skip
    store.save_calls(calls)
    for call in calls:
        if call.outcome is CallOutcome.ABANDONED:
            missed = call.ended_at
            assert missed is not None
            store.save_obligation(
                CallbackObligation(
                    call_id=call.call_id,
                    pbx="lab",
                    caller=CALLER,
                    line=call.line,
                    department=call.department,
                    missed_at=missed,
                    deadline_at=missed + timedelta(days=1),
                    status=CallbackStatus.CALLED_BACK,
                    closed_at=missed + timedelta(hours=2),
                    working_seconds=7200.0,
                )  # fmt: skip
            )
    for n, rings in enumerate((2, 9)):
        store.save_ring_test(
            RingTestResult(
                test_id=f"t{n}",
                target="2002",
                account="ringtester",
                department="Housing",
                placed_at=WEEK_47_MONDAY + timedelta(days=1, hours=n),
                outcome=RingTestOutcome.ANSWERED,
                answered_by=AnsweredBy.PERSON,
                pdd_seconds=0.1,
                ring_seconds=rings * 3.0,
                tta_seconds=None,
                rings=rings,
                within_standard=rings <= 7,
                sip_code=200,
                reason="OK",
            )  # fmt: skip
        )


@pytest.fixture
def council(tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    """Lab settings with a fresh SQLite store holding `fill`'s calls."""
    settings = load_settings(
        LAB_CONFIG,
        overrides={
            "store.url": f"sqlite:///{tmp_path / 'ringtest.db'}",
            "report.output_dir": str(tmp_path / "reports"),
        },  # fmt: skip
        environ={},
    )
    with Store.open(settings.store_url()) as store:
        fill(store)
        yield settings, store


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""A headless Chromium that fetches nothing from outside (no updates, sync or first run)."""


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A real headless Chromium through chromedriver (Debian's packages), profile in a temp dir."""
    profile = tempfile.mkdtemp(prefix="ringtest-chromium-")
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
