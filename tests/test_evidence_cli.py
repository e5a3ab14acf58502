"""`ringtest evidence TEST_ID` on a store we fill (issue 15, item 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ringtest.core.records import AnsweredBy, GreetingAudit, Heard
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, ring_test_result

ROOT = Path(__file__).parents[1]


def ringtest(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "RINGTEST_DB": db, "RINGTEST_CONFIG": ""},
    )


def filled_store(tmp_path: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path}/ringtest.db"
    wav = tmp_path / "rt-0001.wav"
    wav.write_bytes(b"RIFF")
    with Store.open(db) as store:
        store.save_ring_test(ring_test_result(evidence_path=str(wav)))
        store.save_greeting_audit(
            GreetingAudit("rt-0001", "good morning council tax", Heard.YES, Heard.YES, MONDAY_9AM)
        )
        store.save_ring_test(
            ring_test_result(
                test_id="rt-0002",
                answered_by=AnsweredBy.IVR,
                ring_seconds=0.0,
                rings=0,
                evidence_path=str(tmp_path / "deleted.wav"),
            )
        )
    return db, wav


def test_evidence_table_says_what_was_heard_and_where_the_wav_is(tmp_path: Path):
    db, wav = filled_store(tmp_path)
    done = ringtest("evidence", "rt-0001", db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "test_id          rt-0001",
        "target           +441632960100",
        "outcome          answered",
        "answered_by      person",
        "ring_seconds     9.5",
        "rings            2",
        f"evidence_path    {wav}",
        "evidence_exists  True",
        "transcript       good morning council tax",
        "announced_name   yes",
        "greeted          yes",
    ]


def test_evidence_json_says_a_deleted_wav_no_longer_exists(tmp_path: Path):
    db, _ = filled_store(tmp_path)
    done = ringtest("evidence", "rt-0002", "--format", "json", db=db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "test_id": "rt-0002",
        "target": "+441632960100",
        "outcome": "answered",
        "answered_by": "ivr",
        "ring_seconds": 0.0,
        "rings": 0,
        "evidence_path": str(tmp_path / "deleted.wav"),
        "evidence_exists": False,
        "transcript": None,
        "announced_name": None,
        "greeted": None,
    }


def test_evidence_of_an_unknown_test_is_one_line_and_exit_1(tmp_path: Path):
    db, _ = filled_store(tmp_path)
    done = ringtest("evidence", "rt-9999", db=db)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ringtest: no ring test rt-9999: see `ringtest calls --include-test-calls`"
    ]
