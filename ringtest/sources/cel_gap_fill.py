"""One pass at filling a coverage gap from the PBX's CEL file (`[history] cel_file`).

As `ringtest.sources.cdr_gap_fill` does from the CDR, with the exact history: the
calls of the gap are read from cel_custom's ``Master.csv`` as `ringtest import-cel`
reads it (the live tracker, fed the events each row stands for), so a filled call
has the ring time, answer and outcome the listener would have stored. One pass
(`fill_gap_from_cel`):

* imports the calls that STARTED inside [gap.started_at, gap.ended_at), have
  ended and are not stored yet, each with a `gap_note` naming the file, its lines
  and the gap;
* completes each ``incomplete`` call of the listener that the gap cut, when the
  CEL holds it whole (same call id: the Linkedid), by `completed_from_cel`.

CEL times are UTC to the microsecond, so rows before the gap's start less
`LONGEST_CALL` are skipped exactly (no margin for a local clock). Reading the
file is blocking I/O: call it from a worker thread.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ringtest.config import Settings
from ringtest.config.adapters import standards_of
from ringtest.core.records import CallOutcome, CallRecord, CoverageGap
from ringtest.core.standards import RingRule
from ringtest.sources.cdr_gap_fill import LONGEST_CALL, FillPass, completed, fill_with, overlaps
from ringtest.sources.cel_import import CelImport, read_cel_calls
from ringtest.store import Store
from ringtest.store.record_tables import ANSWER_RANK


def fill_gap_from_cel(
    gap: CoverageGap, settings: Settings, store: Store, cel_file: Path
) -> FillPass:
    """Read `cel_file` and fill `gap` from it (blocking). Raises OSError when the file
    cannot be read, and whatever the store raises."""
    result = CelImport()
    with cel_file.open("rb") as file:
        calls = [
            call
            for call in read_cel_calls(
                file, settings, result, cel_file.name, since=gap.started_at - LONGEST_CALL
            )
            if call.pbx == gap.pbx and overlaps(call, gap)
        ]
    ring_rule = standards_of(settings).ring_rule
    return fill_with(
        gap, store, calls, f"Asterisk CEL {cel_file.name}", ring_rule, completed_from_cel
    )


def completed_from_cel(
    measured: CallRecord, history: CallRecord, ring_rule: RingRule, note: str
) -> CallRecord:
    """`measured` (an incomplete call of the listener) completed by `history` (the same
    call in the CEL; `note` names it in the gap note).

    The CEL saw the whole call with the listener's own rules, so it knows more: its
    start, ring time, answer, end, outcome and IVR time replace the listener's, which
    keeps its line, department and test flag (and its caller and dialled number unless
    it saw none). Should the CEL's call be incomplete too, or its answer say less than
    the listener's, the CDR's rules apply (`completed`): no measurement is downgraded.
    """
    if (
        history.outcome is CallOutcome.INCOMPLETE
        or ANSWER_RANK[measured.answered_by] > ANSWER_RANK[history.answered_by]
    ):
        return completed(measured, history, ring_rule, note)
    return dataclasses.replace(
        history,
        line=measured.line,
        department=measured.department,
        caller=measured.caller or history.caller,
        dialled=measured.dialled or history.dialled,
        is_test_call=measured.is_test_call,
        gap_note=f"{measured.gap_note or 'incomplete'}; completed from {note}",
    )
