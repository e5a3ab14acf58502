"""Small CLI truths (issue 12, item 16): `--config` after the command, departments matched
ignoring case, a warning when `listen`/`replay` have no line to store calls for, mystery
calls left out of `calls` unless asked for, and every time saying its zone."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store
from tests.store.builders import call_record

ROOT = Path(__file__).parents[1]
SUMMER_9AM_UTC = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
"""10:00 in London (BST), so a time shown in local time differs from its UTC text."""
FIXTURE = ROOT / "tests" / "fixtures" / "ami" / "person_answers_after_1500ms.ami"


def ringtest(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "RINGTEST_DB": f"sqlite:///{db}", "RINGTEST_CONFIG": ""},
    )


def test_config_after_the_command_is_accepted_and_department_case_is_ignored(tmp_path: Path):
    db = tmp_path / "ringtest.db"
    replayed = ringtest("replay", str(FIXTURE), "--config", str(LAB_CONFIG), db=db)
    assert replayed.returncode == 0, replayed.stderr
    exported = ringtest(
        "calls",
        "--config",
        str(LAB_CONFIG),
        "--department",
        "council tax",
        "--include-test-calls",  # the recorded call is the lab's mystery caller's
        "--format",
        "json",
        db=db,
    )
    assert exported.returncode == 0, exported.stderr
    calls = json.loads(exported.stdout)
    assert calls and {call["department"] for call in calls} == {"Council Tax"}


def test_an_unknown_department_is_named_with_the_known_ones(tmp_path: Path):
    done = ringtest("calls", "--config", str(LAB_CONFIG), "--department", "Parking", db=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "ringtest: Invalid value for --department: 'Parking' is not a department of any line: "
        "use one of Switchboard, Council Tax, Housing,"
    )


def test_replay_with_no_lines_configured_warns_in_one_line(tmp_path: Path):
    done = ringtest("replay", str(FIXTURE), db=tmp_path / "ringtest.db")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "ringtest: warning: no [[lines]] configured, so no call will be stored: add a "
        "[[lines]] entry per monitored number, extension or queue to ringtest.toml"
    )


def real_and_mystery_calls(db: Path) -> Path:
    """A store holding one call from the public and one mystery call a minute later."""
    with Store.open(f"sqlite:///{db}") as store:
        store.save_calls([
            call_record(call_id="real", is_test_call=False, started_at=SUMMER_9AM_UTC),
            call_record(call_id="mystery", is_test_call=True,
                        started_at=SUMMER_9AM_UTC.replace(minute=1)),
        ])  # fmt: skip
    return db


def test_calls_leave_mystery_calls_out_of_the_table_csv_and_json_by_default(tmp_path: Path):
    db = real_and_mystery_calls(tmp_path / "ringtest.db")
    table = ringtest("calls", db=db)
    assert table.returncode == 0, table.stderr
    assert "10:00:00" in table.stdout and "10:01:00" not in table.stdout
    assert "is_test_call" not in table.stdout
    exported = csv.DictReader(io.StringIO(ringtest("calls", "--format", "csv", db=db).stdout))
    assert [(row["call_id"], row["is_test_call"]) for row in exported] == [("real", "False")]
    as_json = json.loads(ringtest("calls", "--format", "json", db=db).stdout)
    assert [call["call_id"] for call in as_json] == ["real"]


def test_include_test_calls_lists_mystery_calls_marked_in_an_is_test_call_column(
    tmp_path: Path,
):
    db = real_and_mystery_calls(tmp_path / "ringtest.db")
    table = ringtest("calls", "--include-test-calls", db=db)
    assert table.returncode == 0, table.stderr
    header, real, mystery = [
        line for line in table.stdout.splitlines() if "┃" in line or "│" in line
    ]
    assert header.split("┃")[-2].strip() == "is_test_call"
    assert (real.split("│")[-2].strip(), mystery.split("│")[-2].strip()) == ("False", "True")
    exported = json.loads(
        ringtest("calls", "--include-test-calls", "--format", "json", db=db).stdout
    )
    assert [(call["call_id"], call["is_test_call"]) for call in exported] == [
        ("real", False),
        ("mystery", True),
    ]


def test_the_table_names_its_time_zone_and_the_exports_give_utc_offsets(tmp_path: Path):
    db = real_and_mystery_calls(tmp_path / "ringtest.db")
    table = ringtest("calls", db=db)
    header = next(line for line in table.stdout.splitlines() if "┃" in line)
    assert header.split("┃")[1].strip() == "started_at (Europe/London)"
    assert "2025-06-02 10:00:00" in table.stdout
    exported = next(csv.DictReader(io.StringIO(ringtest("calls", "--format", "csv", db=db).stdout)))
    assert exported["started_at"] == "2025-06-02T09:00:00+00:00"
    instants = ("started_at", "ring_started_at", "answered_at", "ended_at")
    assert all(exported[name].endswith("+00:00") for name in instants)


def test_publish_covers_the_week_or_the_days_asked_for(tmp_path: Path):
    db = real_and_mystery_calls(tmp_path / "ringtest.db")
    week = ringtest("publish", "--out", str(tmp_path / "week"), "--week", "2025-W23", db=db)
    assert week.returncode == 0, week.stderr
    assert week.stdout == f"wrote {tmp_path / 'week' / 'index.html'} for week 2025-W23\n"
    page = (tmp_path / "week" / "index.html").read_text()
    assert "<title>Our telephone service, week 2025-W23</title>" in page
    assert "Calls from 2 June 2025 to 8 June 2025, both days included." in page
    assert "<td>reception</td>" in page
    days = ringtest(
        "publish", "--out", str(tmp_path / "days"), "--from", "2025-06-03", "--to", "2025-06-04",
        db=db,
    )  # fmt: skip
    assert days.returncode == 0, days.stderr
    page = (tmp_path / "days" / "index.html").read_text()
    assert "<h2>How we did, 03 Jun 2025 to 04 Jun 2025</h2>" in page
    assert "<td>reception</td>" not in page


def test_publish_refuses_a_week_and_days_together_in_one_line(tmp_path: Path):
    done = ringtest(
        "publish", "--out", str(tmp_path), "--week", "2025-W23", "--from", "2025-06-03",
        db=tmp_path / "ringtest.db",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "ringtest: give either --week or --from/--to, not both (see `ringtest publish --help`)\n"
    )


HEAVY_LIBRARIES = ("pandas", "matplotlib", "pjsua2", "apscheduler", "numpy")
"""What other commands need and `ringtest calls` must not wait for (pjsua2 may not load)."""


def test_calls_imports_no_other_commands_libraries(tmp_path: Path):
    probe = (
        "import sys\n"
        "from ringtest.cli import main\n"
        "sys.argv = ['ringtest', 'calls', '--help']\n"
        "main()\n"
        f"print(sorted(set({HEAVY_LIBRARIES!r}) & {{name.split('.')[0] for name in sys.modules}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert done.stdout.startswith("Usage: ringtest calls [OPTIONS]")
