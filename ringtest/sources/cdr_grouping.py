"""A CDR file's rows grouped by call, in memory bounded whatever the file's size.

A call's rows (one per leg, sharing a linkedid) are not next to each other in
``Master.csv``: Asterisk appends each as its leg ends, between other calls'.
Grouping them in a dict of every call holds the whole file; a sliding window
would split a long call. So `rows_by_call` sorts externally: rows are taken
`chunk_rows` at a time, each chunk sorted by (call, line) and written to an
anonymous temporary file, then the sorted runs are merged (`heapq.merge`),
reading each run `READ_BATCH_ROWS` at a time, and consecutive rows of a call
come out together. Memory holds one chunk while reading and one batch per run
while merging; a file of one chunk or less is never written to disk.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import groupby, islice
from operator import attrgetter
from typing import IO

from ringtest.sources.cdr_rows import CdrRow

CHUNK_ROWS = 50_000
"""Rows sorted in memory at a time (about 20 MB of rows)."""
READ_BATCH_ROWS = 1000
"""Rows of a sorted run pickled, and read back, together."""

_call_order = attrgetter("call_key", "line_number")


def rows_by_call(rows: Iterable[CdrRow], chunk_rows: int = CHUNK_ROWS) -> Iterator[list[CdrRow]]:
    """Each call's rows (same `call_key`) in line order; calls in `call_key` order. Every
    row is read before the first call is yielded."""
    with ExitStack() as stack:
        runs: list[Iterator[CdrRow]] = []
        rows_left = iter(rows)
        while chunk := sorted(islice(rows_left, chunk_rows), key=_call_order):
            if len(chunk) < chunk_rows and not runs:
                runs.append(iter(chunk))
                break
            run = stack.enter_context(tempfile.TemporaryFile())
            _write_run(chunk, run)
            runs.append(_read_run(run))
        merged = heapq.merge(*runs, key=_call_order)
        for _key, call_rows in groupby(merged, key=attrgetter("call_key")):
            yield list(call_rows)


def _write_run(chunk: list[CdrRow], run: IO[bytes]) -> None:
    for first in range(0, len(chunk), READ_BATCH_ROWS):
        batch = [tuple(row) for row in chunk[first : first + READ_BATCH_ROWS]]
        pickle.dump(batch, run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)


def _read_run(run: IO[bytes]) -> Iterator[CdrRow]:
    while True:
        try:
            batch = pickle.load(run)
        except EOFError:
            return
        yield from (CdrRow._make(values) for values in batch)
