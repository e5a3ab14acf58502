"""What a call's CDR rows say about its ring time, and when they say nothing.

A CDR row's ``answer`` is its party A's (the caller's channel) answer. When a
person's answer is what answered the caller (Dial, or a queue bridging the
caller to a member), that is the person's answer, and the ring time is it less
the call's start. When the PBX answered the caller first (an IVR's
``Answer()``/``Background``, a queue that answers to play music, ``Answer()``
before ``Dial``), every later row carries that earlier answer, and no row of the
caller's channel says when the person answered. `pbx_answered_first` tells
those calls apart by what the rows show: a row of an application that answers
(`PBX_ANSWER_APPLICATIONS`) answered first, or the caller's first answer came in
the very second its row began (within `EXACT_AT_ONCE` for cdr_custom's exact
times), so no ringing before it shows in the CDR (an ``Answer()`` or a queue at
the call's start; a person answering that soon looks the same, and is reported
unknown rather than 0 s).

Their ring time then comes only from a callee leg with its own channel (a Local
channel's outbound half dialling the person: its start is when it began to
ring, its answer the person's), else it is unknown (None): never 0 s, and never
within the standard. Whole-second CDR times make every ring time good to a
second at best; cdr_custom's epoch microseconds make it exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ami_listener.tracker import IVR_APPLICATIONS
from ringtest.sources.cdr_rows import CdrRow

PBX_ANSWER_APPLICATIONS = IVR_APPLICATIONS | {"Answer", "BackGround", "MusicOnHold"}
"""Applications whose answered row means the PBX answered the caller itself."""
WHOLE_SECOND = timedelta(seconds=1)
"""Whole-second rows: an answer in the second its row began came with no ringing shown."""
EXACT_AT_ONCE = timedelta(milliseconds=500)
"""Exact rows (cdr_custom's epoch microseconds): an answer this soon after its row began
is the PBX's (``Answer()`` takes milliseconds; a phone must ring before a person answers)."""


def pbx_answered_first(rows: Sequence[CdrRow], person_row: CdrRow | None) -> bool:
    """Whether the PBX answered the caller before any person did (`rows` in call order,
    `person_row` the row of the person who answered, None when nobody did)."""
    person_answer = person_row.answer if person_row is not None else None
    for row in rows:
        answered_by_pbx = row.lastapp in PBX_ANSWER_APPLICATIONS and row.answer is not None
        if answered_by_pbx and (person_answer is None or row.answer <= person_answer):
            return True
        if person_row is None and row.dstchannel and row.answer is not None:
            return True  # the caller was up while nobody answered the one dialled
    if person_row is None:
        return False
    first_answer = min(row.answer for row in rows if row.answer is not None)
    at_once = EXACT_AT_ONCE if all(row.exact for row in rows) else WHOLE_SECOND
    return all(first_answer - row.start < at_once for row in rows if row.answer == first_answer)


def callee_leg_ring(
    rows: Sequence[CdrRow], answering: Sequence[CdrRow]
) -> tuple[datetime, datetime] | None:
    """(ringing began, ringing ended) by the callee legs with their own channel (not the
    caller's): the earliest answered one's start and answer, else, when none answered,
    the first start and last end of them; None when the call has no such leg."""
    caller_channel = rows[0].channel
    legs = [row for row in rows if row.dstchannel and row.channel != caller_channel]
    answered = [row for row in answering if row in legs and row.answer is not None]
    if answered:
        first = min(answered, key=lambda row: (row.answer, row.start))
        return first.start, first.answer  # type: ignore[return-value]
    if legs and not answering:
        return min(row.start for row in legs), max(row.end for row in legs)
    return None
