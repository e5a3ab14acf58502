"""`ringtest campaign ...` as a user runs it: a subprocess, exact lines, exit codes."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ringtest.campaigns.source import load_campaign
from ringtest.config import load_settings
from ringtest.core.records import Campaign, RunSlot, RunStatus
from ringtest.store import Store
from tests.campaigns.conftest import BASE_CAMPAIGN, LAB_CONFIG, REPO
from tests.campaigns.test_validation import VALID, mistake

COUNCIL = REPO / "schedules" / "council.yaml"


def ringtest(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RINGTEST_DB": f"sqlite:///{db}"}
    env.pop("RINGTEST_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "campaign", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_validate_says_each_good_file_is_valid(tmp_path):
    done = ringtest("validate", str(COUNCIL), db=tmp_path / "db")

    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{COUNCIL}: campaign 'council-weekly' is valid: 6 targets, 2 per week each, "
        "from account 'ringtester'\n"
    )


def test_validate_prints_every_mistake_of_every_file_one_line_each(tmp_path, write_campaign):
    first = write_campaign(
        mistake(7, "Mon-Thu 09:30-12:30, 13:30-16:30", "Mon-Fri 17:00-09:00"), "first.yaml"
    )
    second = write_campaign(mistake(9, "max_rings: 10", "max_rings: 0"), "second.yaml")

    done = ringtest("validate", str(first), str(second), db=tmp_path / "db")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"ringtest: {first}:7: window 'Mon-Fri 17:00-09:00' ends before it starts: write the "
        "earlier time first, e.g. 09:00-17:00\n"
        f"ringtest: {second}:9: max_rings '0' is too small: use 1 or more\n"
    )


def test_plan_writes_the_weeks_exact_calls_as_csv(tmp_path):
    done = ringtest(
        "plan", str(COUNCIL), "--week", "2026-W49", "--format", "csv", db=tmp_path / "db"
    )

    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 12
    assert set(rows[0]) == {"planned_at", "target", "campaign", "dial", "department", "callback"}
    assert not any(row["planned_at"].startswith("2026-11-30") for row in rows)


def test_plan_of_a_week_a_bank_holiday_cuts_short_names_the_holiday_and_the_shortfall(
    tmp_path, write_campaign
):
    dense = write_campaign(
        BASE_CAMPAIGN.replace("frequency: 3 per week", "frequency: 36 per week"), "dense.yaml"
    )

    table = ringtest("plan", str(dense), "--week", "2026-W49", db=tmp_path / "db")
    as_csv = ringtest(
        "plan", str(dense), "--week", "2026-W49", "--format", "csv", db=tmp_path / "db"
    )

    assert table.returncode == 0, table.stderr
    calls = len(list(csv.DictReader(io.StringIO(as_csv.stdout))))
    shortfall_line = (
        "campaign 'spring', week 2026-W49: Saint Andrew's Day (Mon 30 Nov) closed, so "
        f"{calls} of 72 tests fit; {72 - calls} not planned"
    )
    assert table.stdout.splitlines()[:2] == [
        f"campaign 'spring', week 2026-W49: {calls} calls (times in Europe/London)",
        shortfall_line,
    ]
    assert as_csv.stderr.splitlines() == [shortfall_line]
    assert 0 < calls < 72


def test_validate_of_a_binary_file_is_one_line_not_a_traceback(tmp_path):
    binary = tmp_path / "campaign.yaml"
    binary.write_bytes(bytes(range(256)))

    done = ringtest("validate", str(binary), db=tmp_path / "db")

    assert done.returncode == 2
    assert done.stderr == (
        f"ringtest: {binary}: is not a text file (it holds NUL bytes): give the campaign's "
        "YAML file, saved as UTF-8\n"
    )


def test_plan_with_a_bad_week_is_one_line(tmp_path):
    done = ringtest("plan", str(COUNCIL), "--week", "2026-48", db=tmp_path / "db")

    assert done.returncode == 2
    assert done.stderr == "ringtest: week '2026-48' is not an ISO week: write it like 2026-W48\n"


def test_pausing_an_unknown_campaign_names_it(tmp_path):
    db = tmp_path / "db"
    Store.open(f"sqlite:///{db}").close()

    done = ringtest("pause", "nosuch", db=db)

    assert done.returncode == 1
    assert done.stderr == (
        f"ringtest: no campaign named 'nosuch' in database sqlite:///{db}: check the name "
        "against the stored campaigns\n"
    )


def test_status_shows_each_target_and_pause_resume_flip_the_campaign(tmp_path, write_campaign):
    db = tmp_path / "db"
    definition = load_campaign(write_campaign(VALID), load_settings(LAB_CONFIG, environ={}))
    now = datetime.now(UTC)
    with Store.open(f"sqlite:///{db}") as store:
        store.save_campaign(
            Campaign(
                "council-weekly",
                definition.source_path,
                definition.sha256,
                False,
                now,
                now,
                definition.to_json(),
            )
        )
        store.plan_runs(
            [
                RunSlot(
                    "council-weekly",
                    "Housing",
                    datetime(2026, 1, 5, 10, tzinfo=UTC),
                    RunStatus.NOT_PLACED,
                    reason="missed: due ...",
                ),
                RunSlot("council-weekly", "Housing", datetime(2099, 1, 5, 10, tzinfo=UTC)),
            ]
        )

    paused = ringtest("pause", "council-weekly", db=db)
    table = ringtest("status", db=db)
    as_csv = ringtest("status", "--format", "csv", db=db)
    resumed = ringtest("resume", "council-weekly", db=db)

    assert paused.stdout == "campaign 'council-weekly' paused\n"
    assert resumed.stdout == "campaign 'council-weekly' resumed\n"
    assert "council-weekly (paused)" in table.stdout
    assert "Mon 05 Jan 10:00" in table.stdout
    [row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (row["target"], row["planned"], row["skipped"], row["paused"]) == (
        "Housing",
        "1",
        "1",
        "True",
    )
    assert row["last_problem"] == "missed: due ..."
