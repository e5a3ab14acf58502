"""Several writer processes (one per PBX or site) save into one PostgreSQL at once.

Real processes, each with its own `Store`, start together and save their own
calls and calls they share with the others, in shuffled transactions, so their
row locks overlap. Nothing may be lost or doubled, no writer may fail (a
deadlock would fail one), and a shared call ends whole whichever writer
committed last: an incomplete save never downgrades it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.store import Store
from tests.store.concurrent_writer import (
    OWN_CALLS,
    SHARED_CALLS,
    complete_shared_call,
    writer_calls,
)

ROOT = Path(__file__).parents[2]
WRITERS = 4


@pytest.mark.postgres
def test_concurrent_writers_lose_double_and_downgrade_no_call(postgres_schema_url: str):
    Store.open(postgres_schema_url).close()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.store.concurrent_writer",
                postgres_schema_url,
                str(writer),
                str(WRITERS),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer in range(WRITERS)
    ]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes = [process.communicate(timeout=240) for process in processes]

    exits = [
        (process.returncode, err[-300:])
        for process, (_, err) in zip(processes, outcomes, strict=True)
    ]
    assert exits == [(0, "")] * WRITERS
    assert [int(out) for out, _ in outcomes] == [OWN_CALLS + SHARED_CALLS] * WRITERS
    own = [call for writer in range(WRITERS) for call in writer_calls(writer, WRITERS)]
    expected = {(call.pbx, call.call_id): call for call in own if call.pbx != "shared"}
    for number in range(SHARED_CALLS):
        expected["shared", f"s{number}"] = complete_shared_call(number, number % WRITERS)
    with Store.open(postgres_schema_url) as store:
        stored = store.calls()
    assert len(stored) == WRITERS * OWN_CALLS + SHARED_CALLS
    assert {(call.pbx, call.call_id): call for call in stored} == expected
