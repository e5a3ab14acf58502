"""`ringtest publish`: what a citizen sees in a real headless Chromium, no caller number,
and no small number (`publish.min_count`)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from analysis.public_page import write_public_page
from ringtest.config.report import PublishSettings
from tests.analysis.conftest import CALLER, DEPARTMENTS

EARLY_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
"""The page then shows November 2026, the month of the stored calls."""


@pytest.fixture
def min_count() -> int:
    """`publish.min_count` of the served page: 1 shows every count (tests override it)."""
    return 1


@pytest.fixture
def served(council, min_count: int, tmp_path: Path) -> Iterator[str]:
    """The published page served by a local HTTP server on a free port; yields its URL."""
    settings, store = council
    settings = settings.model_copy(update={"publish": PublishSettings(min_count=min_count)})
    page = write_public_page(settings, store, tmp_path / "public", EARLY_DECEMBER)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(page.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_a_citizen_sees_the_standards_and_last_months_results(served, browser):
    browser.get(served)
    assert browser.title == "Our telephone service, November 2026"
    assert browser.find_element(By.ID, "answer-standard").text == (
        "A person answers your call within 7 rings."
    )
    assert browser.find_element(By.ID, "callback-standard").text == (
        "If we miss your call, we call you back within 1 working day."
    )
    headers = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[:3] == ["Department", "Calls", "Answered within 7 rings"]
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    measured = {
        "Council Tax": ["Council Tax", "6", "67%", "100%", "none made"],
        "Housing": ["Housing", "2", "50%", "-", "1 of 2"],
        "Planning": ["Planning", "1", "0%", "100%", "none made"],
    }
    assert rows == [  # every configured department, 0 calls where it had none
        measured.get(department, [department, "0", "-", "-", "none made"])
        for department in DEPARTMENTS
    ]


@pytest.mark.parametrize("min_count", [PublishSettings().min_count])
def test_by_default_fewer_than_5_calls_show_neither_their_count_nor_a_percentage(
    served, browser, min_count
):
    assert min_count == 5
    browser.get(served)
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    measured = {
        "Council Tax": ["Council Tax", "6", "67%", "fewer than 5", "none made"],
        "Housing": ["Housing", "fewer than 5", "fewer than 5", "-", "1 of 2"],
        "Planning": ["Planning", "fewer than 5", "fewer than 5", "fewer than 5", "none made"],
    }
    assert rows == [  # a department with no calls shows 0: there is no call to recognise
        measured.get(department, [department, "0", "-", "-", "none made"])
        for department in DEPARTMENTS
    ]
    assert browser.find_element(By.ID, "small-numbers").text == (
        "Where a department had fewer than 5 calls, or fewer than 5 missed calls to return, "
        "we do not show the number or the percentage, so that no single call can be recognised."
    )


def test_a_higher_minimum_hides_a_department_of_6_calls(council, tmp_path):
    settings, store = council
    settings = settings.model_copy(update={"publish": PublishSettings(min_count=7)})
    page = write_public_page(settings, store, tmp_path / "public", EARLY_DECEMBER).read_text()
    assert "<td>Council Tax</td><td>fewer than 7</td><td>fewer than 7</td>" in page
    assert "67%" not in page and "<td>6</td>" not in page


def test_the_public_page_shows_no_caller_number(served, browser):
    browser.get(served)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Council Tax" in text
    for shown in (text, browser.page_source):
        assert CALLER not in shown
        assert CALLER.removeprefix("+44") not in shown
