"""Small CLI truths (issue 12, item 16): `--config` after the command, departments matched
ignoring case, and a warning when `listen`/`replay` have no line to store calls for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ringtest.lab.settings import LAB_CONFIG

ROOT = Path(__file__).parents[1]
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
