"""`import-cdr` never claims what the CDR does not say: the lab Asterisk's own Master.csv of
the run whose CEL is `lab_every_line.csv` (same calls, same uniqueids), and small files of
the call shapes the lab does not make (Answer() before Dial, a queue that answers first,
a transfer that rewrote the first row's destination)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy
from ringtest.sources.cdr_import import import_cdr
from ringtest.store import Store
from tests.test_cel_import import FIXTURE, TRUTH, settings_in

LAB_CDR = FIXTURE.with_name("lab_every_line_cdr.csv")
IVR_CALL = "1796380092.1157"
"""The switchboard's IVR answered the caller; staff6 answered 1.2 s after it dialled him."""


@pytest.fixture
def settings(tmp_path: Path):
    return settings_in(tmp_path)


def imported(settings, path: Path):
    with Store.open(settings.store_url()) as store:
        result = import_cdr(path, settings, store)
        return result, {call.call_id: call for call in store.calls()}


def test_every_lab_call_is_imported_right_to_the_second_or_its_ring_time_unknown(settings):
    result, calls = imported(settings, LAB_CDR)
    assert set(calls) == set(TRUTH)  # the IVR call too, found by its line's context
    assert (result.imported, result.ring_unknown) == (12, 1)
    for call_id, (line, outcome, answered_by, truth) in TRUTH.items():
        call = calls[call_id]
        assert (call.line, call.outcome, call.answered_by) == (line, outcome, answered_by)
        unknown = ", ring time not in the CDR" if call_id == IVR_CALL else ""
        assert call.gap_note.endswith(f", whole seconds{unknown}")
        if call_id == IVR_CALL or truth is None:
            continue
        assert abs(truth - call.ring_seconds) < 1.0  # each end cut to its second
    ivr = calls[IVR_CALL]
    assert (ivr.ring_seconds, ivr.rings, ivr.answered_at, ivr.within_standard) == (
        None,
        None,
        None,
        False,
    )


def row(dst: str, channel: str, dstchannel: str, app: str, data: str, start: str,
        answer: str, end: str, disposition: str, uniqueid: str,
        dcontext: str = "council-inbound") -> list[str]:  # fmt: skip
    """One cdr_csv row of 18 fields on 2026-12-04 (times HH:MM:SS, UTC)."""
    day = "2026-12-04 "
    return [
        "", "+441382000301", dst, dcontext, '"Citizen" <+441382000301>', channel, dstchannel,
        app, data, day + start, day + answer if answer else "", day + end, "0", "0",
        disposition, "DOCUMENTATION", uniqueid, "",
    ]  # fmt: skip


def write(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    return path


CALLER = "PJSIP/citizen-00000001"
UNIQUEID = "1796385600.1"
"""10:40:00 UTC: the rows' start matches it, so the file says UTC."""


def test_answer_before_dial_gives_no_ring_time_and_is_counted(settings, tmp_path):
    answered_first = row("2001", CALLER, "PJSIP/staff1-00000002", "Dial", "PJSIP/staff1,60",
                         "10:40:00", "10:40:00", "10:40:30", "ANSWERED", UNIQUEID)  # fmt: skip
    result, calls = imported(settings, write(tmp_path / "Master.csv", [answered_first]))
    call = calls[UNIQUEID]
    assert (call.answered_by, call.ring_seconds, call.within_standard) == (
        AnsweredBy.PERSON,
        None,
        False,
    )
    assert result.ring_unknown == 1


def test_a_queue_that_answered_first_takes_its_ring_time_from_a_local_member_leg(
    settings, tmp_path
):
    """FreePBX-style members: the queue dials Local/201@from-queue, whose outbound half
    dials the phone; only that leg's own start and answer tell the ringing."""
    queue_leg = row("2003", CALLER, "Local/201@from-queue-00000001;1", "Queue", "benefits,t",
                    "10:40:00", "10:40:00", "10:40:40", "ANSWERED", UNIQUEID)  # fmt: skip
    member_leg = row("201", "Local/201@from-queue-00000001;2", "PJSIP/201-00000003", "Dial",
                     "PJSIP/201,20", "10:40:05", "10:40:09", "10:40:40", "ANSWERED", UNIQUEID,
                     dcontext="from-queue")  # fmt: skip
    result, calls = imported(settings, write(tmp_path / "Master.csv", [queue_leg, member_leg]))
    call = calls[UNIQUEID]
    assert (call.line, call.answered_by, call.ring_seconds) == ("benefits", AnsweredBy.PERSON, 4.0)
    assert result.ring_unknown == 0


def test_a_transfer_that_rewrote_the_first_rows_destination_keeps_the_line(settings, tmp_path):
    """Asterisk wrote the transfer target (204 in the agents' context) as the first row's
    dst; its lastdata still says whom the line dialled."""
    first = row("204", CALLER, "PJSIP/2001-00000002", "Dial", "PJSIP/2001,45", "10:40:00",
                "10:40:03", "10:40:20", "ANSWERED", UNIQUEID, dcontext="agents")  # fmt: skip
    second = row("204", CALLER, "PJSIP/204-00000004", "Dial", "PJSIP/204,45", "10:40:20",
                 "10:40:20", "10:40:50", "ANSWERED", UNIQUEID, dcontext="agents")  # fmt: skip
    _, calls = imported(settings, write(tmp_path / "Master.csv", [first, second]))
    call = calls[UNIQUEID]
    assert (call.line, call.answered_by, call.ring_seconds) == ("2001", AnsweredBy.PERSON, 3.0)


def test_a_lab_blind_transfer_whose_first_row_names_the_target_keeps_its_line(settings):
    """The lab's own rows: staff8 answered 2006 and transferred the caller to 2002, and
    Asterisk wrote 2002 as the dst of both rows; only staff8 (a device of 2006) tells."""
    _, calls = imported(settings, FIXTURE.with_name("lab_blind_transfer_rewritten_cdr.csv"))
    call = calls["1796381430.2980"]
    assert (call.line, call.department, call.answered_by, call.ring_seconds) == (
        "2006",
        "Reception",
        AnsweredBy.PERSON,
        1.0,
    )


@pytest.mark.parametrize("rows", [[], [["not", "a", "cdr"]]])
def test_nothing_to_import_still_counts_no_unknown_ring(settings, tmp_path, rows):
    result, calls = imported(settings, write(tmp_path / "Master.csv", rows))
    assert (calls, result.ring_unknown) == ({}, 0)
