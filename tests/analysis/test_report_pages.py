"""Every page of the PDF, rendered as an image by poppler's pdftoppm: nothing runs off it.

A page whose margins are not blank has text or a drawing running off the page (a
clipped legend, a long department name, a bar label); pypdf's text positions must
also lie inside the page box. The report is the demo's worst case: every
configured department (long names included), a --from/--to period, thousands of calls.
"""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from analysis.report import days_period, write_report
from analysis.report_data import gather_report
from tests.analysis.conftest import AFTER_WEEK_47, WEEK_47_MONDAY, stored_call

DOTS_PER_INCH = 50
MARGIN_INCHES = 0.2
WHITE = 250
LONG_NAMED = (("Environmental Health", "2011"), ("Customer Services", "2008"))


@pytest.fixture
def report_pdf(council, tmp_path: Path) -> Path:
    settings, store = council
    calls = [
        stored_call(1000 + n, department, line, WEEK_47_MONDAY + timedelta(minutes=7 * n),
                    2.0 + (n * 1.7) % 40, n % 4 != 0)
        for n in range(2400)
        for department, line in [LONG_NAMED[n % 2]]
    ]  # fmt: skip
    store.save_calls(calls)
    period = days_period(date(2026, 11, 1), date(2026, 11, 30), ZoneInfo("Europe/London"))
    data = gather_report(settings, store, period.since, period.until, period.title, period.when,
                         now=AFTER_WEEK_47)  # fmt: skip
    return write_report(data, tmp_path / "report").pdf


def pages_as_images(pdf: Path, out: Path) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", str(DOTS_PER_INCH), "-gray", "-png", str(pdf),
                    str(out / "page")], check=True)  # fmt: skip
    return [np.asarray(Image.open(path)) for path in sorted(out.glob("page-*.png"))]


def test_every_page_keeps_its_margins_blank(report_pdf: Path, tmp_path: Path):
    images = pages_as_images(report_pdf, tmp_path)
    assert len(images) == len(PdfReader(report_pdf).pages) == 1 + 5
    edge = int(MARGIN_INCHES * DOTS_PER_INCH)
    for number, image in enumerate(images, start=1):
        margins = {
            "top": image[:edge], "bottom": image[-edge:],
            "left": image[:, :edge], "right": image[:, -edge:],
        }  # fmt: skip
        for side, strip in margins.items():
            assert strip.min() >= WHITE, f"page {number}: something runs into the {side} margin"


def test_every_text_starts_inside_the_page(report_pdf: Path):
    for number, page in enumerate(PdfReader(report_pdf).pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        outside = []

        def visit(text, cm, tm, font, size, outside=outside, width=width, height=height):
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            if text.strip() and not (0 <= x < width and 0 <= y < height):
                outside.append((text, x, y))

        page.extract_text(visitor_text=visit)
        assert outside == [], f"page {number}"
