"""One of several writer processes saving calls into one PostgreSQL at once (a PBX's listener).

Run as ``python -m tests.store.concurrent_writer URL WRITER WRITERS``: it builds its
calls (`writer_calls`), waits for a line on stdin so that every writer starts
together, saves them in shuffled transactions of `CALLS_PER_SAVE` and prints how
many it saved.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from datetime import timedelta

from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, call_record

OWN_CALLS = 3000
"""Calls only this writer saves (on its own PBX)."""

SHARED_CALLS = 3000
"""Calls every writer saves (on one shared PBX): one writer whole, the others incomplete."""

CALLS_PER_SAVE = 1500


def complete_shared_call(number: int, writer: int) -> CallRecord:
    """Shared call `number` as the writer that saw it whole stores it."""
    return call_record(
        pbx="shared",
        call_id=f"s{number}",
        started_at=MONDAY_9AM + timedelta(seconds=number),
        rings=1 + writer,
        gap_note=None,
    )


def writer_calls(writer: int, writers: int) -> list[CallRecord]:
    """Writer `writer`'s calls: its own, and every shared call, whole when the call is
    this writer's (number % writers), else incomplete: no answer or ring time seen."""
    own = [
        call_record(
            pbx=f"site-{writer}",
            call_id=f"{number}",
            started_at=MONDAY_9AM + timedelta(seconds=number),
        )
        for number in range(OWN_CALLS)
    ]
    shared = []
    for number in range(SHARED_CALLS):
        whole = complete_shared_call(number, number % writers)
        if number % writers != writer:
            whole = replace(
                whole,
                outcome=CallOutcome.INCOMPLETE,
                answered_at=None,
                answered_by=AnsweredBy.NONE,
                ring_started_at=None,
                ring_seconds=None,
                rings=None,
                within_standard=False,
                gap_note=f"writer {writer} lost sight of it",
            )
        shared.append(whole)
    calls = own + shared
    random.Random(writer).shuffle(calls)
    return calls


def main(url: str, writer: int, writers: int) -> None:
    calls = writer_calls(writer, writers)
    with Store.open(url) as store:
        sys.stdin.readline()
        saved = sum(
            store.save_calls(calls[first : first + CALLS_PER_SAVE])
            for first in range(0, len(calls), CALLS_PER_SAVE)
        )
    print(saved)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
