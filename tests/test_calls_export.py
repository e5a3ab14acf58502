"""`ringtest calls` on a store too big to print: the table pages, the exports stream.

Run as real subprocesses, so what is checked is what lands on stdout.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, call_record
from tests.test_cli import ringtest

CALLS = 60


def filled_store(tmp_path: Path) -> dict[str, str]:
    """A store of `CALLS` calls from the public a minute apart; the environment that points
    ringtest at it."""
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    with Store.open(url) as store:
        store.save_calls(
            call_record(
                call_id=f"call-{minute:02d}",
                started_at=MONDAY_9AM + timedelta(minutes=minute),
                is_test_call=False,
            )
            for minute in range(CALLS)
        )
    return {"RINGTEST_DB": url}


def test_the_table_shows_the_newest_50_and_says_how_many_more_exist(tmp_path):
    done = ringtest("calls", env=filled_store(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == (
        "the newest 50 of 60 calls; 10 more not shown: raise --limit, narrow with "
        "--since/--until, or export with --format csv"
    )
    assert "2025-03-03 09:10:00" in done.stdout and "2025-03-03 09:09:00" not in done.stdout


def test_limit_sets_how_many_newest_calls_the_table_shows(tmp_path):
    done = ringtest("calls", "--limit", "60", env=filled_store(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "more not shown" not in done.stdout
    assert "2025-03-03 09:00:00" in done.stdout


def test_csv_export_writes_every_call_in_start_order_under_one_header(tmp_path):
    done = ringtest("calls", "--format", "csv", env=filled_store(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [row["call_id"] for row in rows] == [f"call-{minute:02d}" for minute in range(CALLS)]
    assert rows[0]["started_at"] == "2025-03-03T09:00:00+00:00"
    assert rows[0]["answered_by"] == "person" and rows[0]["within_standard"] == "True"


def test_json_export_is_one_array_with_one_call_per_line(tmp_path):
    done = ringtest("calls", "--format", "json", env=filled_store(tmp_path))
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert len(exported) == CALLS and exported[-1]["call_id"] == "call-59"
    assert exported[0]["outcome"] == "answered" and exported[0]["ring_seconds"] == 11.75
    lines = done.stdout.splitlines()
    assert (lines[0], lines[-1]) == ("[", "]")
    assert json.loads(lines[1].rstrip(","))["call_id"] == "call-00"


def test_an_empty_export_is_a_header_or_an_empty_array(tmp_path):
    env = {"RINGTEST_DB": f"sqlite:///{tmp_path / 'empty.db'}"}
    Store.open(env["RINGTEST_DB"]).close()
    csv_done = ringtest("calls", "--format", "csv", env=env)
    assert csv_done.stdout.splitlines()[0].startswith("call_id,pbx,line,department,caller")
    assert json.loads(ringtest("calls", "--format", "json", env=env).stdout) == []
