"""The report's files hold figures about callers: each is 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from zoneinfo import ZoneInfo

from analysis.report import week_period, write_report
from analysis.report_data import gather_report
from tests.analysis.conftest import AFTER_WEEK_47

LONDON = ZoneInfo("Europe/London")


def test_every_report_file_is_readable_by_its_owner_only(council, tmp_path: Path):
    settings, store = council
    period = week_period("2026-W47", LONDON)
    data = gather_report(settings, store, period.since, period.until, period.title, period.when,
                         now=AFTER_WEEK_47)  # fmt: skip
    previous = os.umask(0o022)
    try:
        files = write_report(data, tmp_path / "out")
    finally:
        os.umask(previous)
    written = sorted((tmp_path / "out").iterdir())
    assert files.csv in written and files.pdf in written and len(written) == 8
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {
        path.name: 0o600 for path in written
    }
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
