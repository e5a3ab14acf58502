"""The report's files: charts, a PDF of a summary page and a page per department, CSV, HTML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.report import week_period, write_report
from analysis.report_data import gather_report
from analysis.report_tables import headline
from ringtest.cli.common import configured_department
from ringtest.config import Settings
from ringtest.core.errors import ReportError
from tests.analysis.conftest import AFTER_WEEK_47, CALLER, DEPARTMENTS

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def week_47(council):
    settings, store = council
    period = week_period("2026-W47", LONDON)
    return gather_report(settings, store, period.since, period.until, period.title, period.when,
                         now=AFTER_WEEK_47)  # fmt: skip


def test_the_headline_says_who_met_the_seven_ring_standard(week_47):
    table = headline(week_47).set_index("Department")
    assert list(table.index) == DEPARTMENTS
    table = table.loc[["Council Tax", "Housing", "Planning"]]
    assert list(table["Calls"]) == ["5", "2", "1"]
    assert list(table["Answered within 7 rings"]) == ["60%", "50%", "0%"]
    assert list(table["Returned within 1 working day"]) == ["100%", "-", "100%"]
    assert table.loc["Housing", "Mystery calls within standard"] == "1 of 2"
    assert table.loc["Council Tax", "Compared with earlier weeks"] == "worse (-40 points)"
    assert table.loc["Housing", "Compared with earlier weeks"] == "no earlier calls"


def test_the_trend_covers_twelve_weeks_with_empty_weeks_as_no_calls(week_47):
    live = week_47.weekly[week_47.weekly["source"] == "live"]
    council_tax = live[live["department"] == "Council Tax"]
    assert list(council_tax["period"])[-3:] == ["2026-W45", "2026-W46", "2026-W47"]
    assert len(council_tax) == 12
    assert list(council_tax["offered"])[-3:] == [1, 0, 5]


def test_the_report_writes_charts_pdf_csv_and_html(week_47, tmp_path: Path):
    files = write_report(week_47, tmp_path / "out")
    assert sorted(path.name for path in files.charts.values()) == [
        "callbacks.png", "compliance.png", "rings.png", "trend.png",
    ]  # fmt: skip
    for chart in files.charts.values():
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pages = PdfReader(files.pdf).pages
    assert len(pages) == 1 + 3
    summary = pages[0].extract_text()
    assert "Telephone standards, week 2026-W47 (16 Nov to 22 Nov 2026)" in summary
    assert "within 7 rings" in summary
    for page, department in zip(pages[1:], ["Council Tax", "Housing", "Planning"], strict=True):
        assert f"{department}: Telephone standards" in page.extract_text()
    rows = pd.read_csv(files.csv)
    assert set(rows["source"]) == {"live", "ring test"}
    live = rows[rows["source"] == "live"].set_index("department")
    assert list(live.index) == DEPARTMENTS
    assert list(live.loc[["Council Tax", "Housing", "Planning"], "within_standard"]) == [3, 1, 0]
    html = files.html.read_text()
    assert "<th scope='row'>Council Tax</th><td>5</td><td>60%</td>" in html
    assert "src='compliance.png'" in html
    assert CALLER not in html and CALLER not in files.csv.read_text()


def test_a_report_for_one_department_has_one_department_page(council, tmp_path: Path):
    settings, store = council
    period = week_period("2026-W47", LONDON)
    data = gather_report(settings, store, period.since, period.until, period.title,
                         period.when, department="Housing", now=AFTER_WEEK_47)  # fmt: skip
    files = write_report(data, tmp_path)
    assert len(PdfReader(files.pdf).pages) == 2


def test_an_unwritable_output_folder_is_one_line(week_47, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ReportError) as caught:
        write_report(week_47, blocker / "report")
    assert str(caught.value) == (
        f"cannot write the report to '{blocker / 'report'}' (Not a directory): "
        "choose another --out or report.output_dir"
    )


def ringtest(*args: str, env_db: str) -> subprocess.CompletedProcess[str]:
    environment = {"RINGTEST_DB": env_db, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", "examples/lab.toml", *args],
        capture_output=True, text=True, env=environment, cwd=Path(__file__).parents[2],
    )  # fmt: skip


def test_ringtest_report_for_a_week_writes_the_files(council, tmp_path: Path):
    settings, _store = council
    done = ringtest("report", "--week", "2026-W47", "--out", str(tmp_path / "out"),
                    env_db=settings.store_url() or "")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.pdf").exists()
    assert done.stdout.startswith(f"wrote {tmp_path / 'out' / 'report.pdf'}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--week", "2026-47"],
         "ringtest: '2026-47' is not an ISO week: write it like 2026-W47 (year, W, week 01-53)"),
        (["--from", "2026-11-30", "--to", "2026-11-01"],
         "ringtest: --to 2026-11-01 is before --from 2026-11-30: "
         "give the first day, then the last"),
        (["--from", "2026-11-01"],
         "ringtest: give both --from and --to (see `ringtest report --help`)"),
    ],
)  # fmt: skip
def test_a_wrong_report_period_is_one_line(council, args, expected):
    settings, _store = council
    done = ringtest("report", *args, env_db=settings.store_url() or "")
    assert (done.returncode, done.stderr.strip()) == (2 if "--help" in expected else 1, expected)


def test_an_unknown_department_is_one_line_listing_the_configured_ones(council, tmp_path: Path):
    settings, _store = council
    done = ringtest("report", "--department", "Parking", "--out", str(tmp_path / "out"),
                    env_db=settings.store_url() or "")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "ringtest: Invalid value for --department: 'Parking' is not a department of any line: "
        "use one of Switchboard, Council Tax, Housing, Benefits, Planning, Licensing, "
        "Reception, Customer Services, Out of order, Permits, Environmental Health, Information "
        "(see `ringtest report --help`)"
    ]
    assert not (tmp_path / "out").exists()


def test_a_department_in_the_wrong_case_is_reported_under_its_configured_name(
    council, tmp_path: Path
):
    settings, _store = council
    done = ringtest("report", "--week", "2026-W47", "--department", "council TAX",
                    "--out", str(tmp_path), env_db=settings.store_url() or "")  # fmt: skip
    assert done.returncode == 0, done.stderr
    pages = PdfReader(tmp_path / "report.pdf").pages
    assert len(pages) == 2
    assert "Council Tax: Telephone standards" in pages[1].extract_text()


def test_a_department_without_any_configured_line_says_where_to_configure_one():
    with pytest.raises(click.BadParameter) as raised:
        configured_department(Settings(), "Housing", "--department")
    assert raised.value.format_message() == (
        "Invalid value for --department: 'Housing' is not a department: none is configured, "
        "add [[lines]] with a department to ringtest.toml"
    )
