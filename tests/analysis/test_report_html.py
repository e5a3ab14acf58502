"""The HTML report, the accessible version, read in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By

from analysis.report import week_period, write_report
from analysis.report_data import gather_report
from tests.analysis.conftest import AFTER_WEEK_47, DEPARTMENTS


def test_the_html_report_has_headings_table_headers_and_alt_texts(council, tmp_path: Path,
                                                                   browser):  # fmt: skip
    settings, store = council
    period = week_period("2026-W47", ZoneInfo("Europe/London"))
    data = gather_report(settings, store, period.since, period.until, period.title, period.when,
                         now=AFTER_WEEK_47)  # fmt: skip
    files = write_report(data, tmp_path)
    browser.get(files.html.as_uri())
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    [title] = browser.find_elements(By.TAG_NAME, "h1")
    assert title.text == data.title
    sections = [heading.text for heading in browser.find_elements(By.TAG_NAME, "h2")]
    assert sections == ["Summary by department", "Charts", "Council Tax", "Housing", "Planning"]
    [summary, *departments] = browser.find_elements(By.TAG_NAME, "table")
    assert len(departments) == 3
    columns = summary.find_elements(By.CSS_SELECTOR, "thead th[scope='col']")
    assert [column.text for column in columns][:3] == [
        "Department", "Calls", "Answered within 7 rings",
    ]  # fmt: skip
    rows = summary.find_elements(By.CSS_SELECTOR, "tbody th[scope='row']")
    assert [row.text for row in rows] == DEPARTMENTS
    assert summary.find_element(By.TAG_NAME, "caption").text == "Every department, week 2026-W47"
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 4
    for image in images:
        assert image.get_attribute("alt")
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
