"""`make demo` stays true: the lab council's morning, measured end to end."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader
from rich.console import Console

from ringtest.lab.demo import CALLED_BACK, CITIZEN_CALLS, run_demo

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def demo(lab, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo-out")
    console = Console(file=io.StringIO(), width=160)
    pdf = run_demo(out_dir, console)
    return out_dir, pdf, console.file.getvalue()


def rows(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_every_citizen_call_and_every_mystery_call_is_stored(demo):
    out_dir, _, _ = demo
    calls = rows(out_dir / "calls.csv")
    citizens = {call["caller"] for call in calls if call["is_test_call"] == "False"}
    assert {call.caller for call in CITIZEN_CALLS} <= citizens
    ring_tests = rows(out_dir / "ring_tests.csv")
    assert len(ring_tests) == 6
    assert {test["department"] for test in ring_tests} == {
        "Switchboard",
        "Council Tax",
        "Housing",
        "Benefits",
        "Planning",
        "Licensing",
    }


def test_the_caller_transferred_by_environmental_health_counts_as_answered_once(demo):
    out_dir, _, _ = demo
    [call] = [call for call in rows(out_dir / "calls.csv") if call["caller"] == "+441382000113"]
    assert (call["department"], call["outcome"], call["answered_by"]) == (
        "Environmental Health",
        "answered",
        "person",
    )
    assert float(call["ring_seconds"]) == pytest.approx(3.5, abs=0.05)


def test_staff_call_backs_close_the_obligations_they_answer(demo):
    out_dir, _, _ = demo
    status = {ob["caller"]: ob["status"] for ob in rows(out_dir / "callbacks.csv")}
    assert {status[number] for number in CALLED_BACK} == {"called_back"}
    assert "open" in status.values()


def test_report_pdf_has_a_summary_page_and_a_page_per_department(demo):
    _, pdf, printed = demo
    # the summary, the compliance chart on a page of its own (twelve departments' rows
    # leave it no room below the table), then one page per department with calls
    assert len(PdfReader(pdf).pages) == 2 + 7
    assert "headline figures" in printed
    assert str(pdf) in printed
