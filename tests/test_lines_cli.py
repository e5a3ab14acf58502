"""`ringtest lines`, and read commands on a database that does not exist (issue 12, items 7, 9)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ringtest.cli.lines import lines_overview
from ringtest.config import load_settings
from ringtest.core.records import UnmatchedInboundCall
from ringtest.store import Store

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def ringtest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_lines_shows_the_configured_lines_and_the_weeks_unmatched_numbers(tmp_path: Path):
    config = tmp_path / "ringtest.toml"
    config.write_text(
        '[[lines]]\nnumber = "01382 434001"\ndepartment = "Council Tax"\nname = "Main"\n'
        '[[lines]]\nqueue = "benefits"\ndepartment = "Benefits"\n'
    )
    settings = load_settings(config)
    with Store.open(f"sqlite:///{tmp_path}/ringtest.db") as store:
        store.save_unmatched_calls(
            [
                UnmatchedInboundCall("pbx", "1", "441382999999", NOW - timedelta(hours=2)),
                UnmatchedInboundCall("pbx", "2", "441382999999", NOW - timedelta(hours=1)),
                UnmatchedInboundCall("pbx", "3", "01382888888", NOW - timedelta(days=8)),
            ]
        )
        text = lines_overview(settings, store, NOW)
    assert text.splitlines() == [
        "2 monitored lines:",
        "  number     +441382434001  Council Tax (Main)",
        "  queue      benefits       Benefits",
        "calls from the public to no configured line since 2026-11-16 12:00 (Europe/London):",
        "  441382999999  2 calls, last 2026-11-23 11:00",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["calls"],
        ["callbacks"],
        ["gaps"],
        ["lines"],
        ["report"],
        ["publish", "--out", "site"],
        ["subject-access", "01632960001"],
        ["campaign", "status"],
    ],
)
def test_a_read_command_on_a_missing_database_names_it_and_creates_nothing(
    tmp_path: Path, command: list[str]
):
    path = tmp_path / "ringtset.db"
    done = ringtest(*command, env={"RINGTEST_DB": f"sqlite:///{path}", "RINGTEST_CONFIG": ""})
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ringtest: database sqlite:///{path} does not exist: check RINGTEST_DB or store.url "
        "for a typo (only listen, replay, run, campaign run, import-cdr, call and "
        "callbacks-wait create a new database)"
    ]
    assert not path.exists()


def test_a_command_that_stores_says_where_it_created_the_database(tmp_path: Path):
    path = tmp_path / "new.db"
    fixture = ROOT / "tests" / "fixtures" / "ami" / "person_answers_after_1500ms.ami"
    done = ringtest(
        "--config",
        str(ROOT / "examples" / "lab.toml"),
        "replay",
        str(fixture),
        env={"RINGTEST_DB": f"sqlite:///{path}"},
    )
    assert done.returncode == 0, done.stderr
    assert f"ringtest: created a new database sqlite:///{path}" in done.stderr.splitlines()
    assert path.exists()
