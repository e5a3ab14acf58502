"""The callback work list: every missed caller still owed a call back, the nearest deadline first.

One row per caller (the callback ledger closes all of a caller's obligations
with one call back, `ami_listener.obligations`), built from the obligations
still owed and what each missed call met. Pure: obligations and `now` (aware
UTC) in, rows out.

* time left: working seconds from `now` to the deadline under the service's
  calendar (`Standards.working_seconds`), negative once overdue; the countdown
  stops out of hours and on bank holidays, so `counting` says whether it runs now;
* tries today: the caller's owed missed calls that began on today's local date,
  and the priority that follows from them (`PRIORITY_BY_TRIES`, as Tri-Line does);
* what the caller met: "abandoned after 4 rings", "voicemail", "busy".

Numbers are personal data: a row shows the caller's number only when
`[web] show_caller_numbers` is set, else `mask_number`'s ``+44 1382 ••• 101``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers

from analysis.live_board import CallKey, MissedCall
from ringtest.core.records import CallbackObligation, CallbackStatus, CallOutcome
from ringtest.core.standards import Standards

MASK = "•••"
KEPT_DIGITS = 3
"""Trailing digits a masked number keeps, so staff can tell two callers apart."""

PRIORITY_BY_TRIES: tuple[tuple[int, str], ...] = ((3, "urgent"), (2, "high"), (1, "normal"))
"""(fewest tries today, priority), most tries first: the first row a caller reaches."""

MET_TEXT: Mapping[CallOutcome, str] = {
    CallOutcome.ABANDONED: "abandoned after {rings} rings",
    CallOutcome.VOICEMAIL: "voicemail",
    CallOutcome.BUSY: "busy",
    CallOutcome.FAILED: "call failed",
}
"""What a missed caller met, by the call's outcome ({rings}: whole rings heard)."""


@dataclass(frozen=True, slots=True)
class WorkRow:
    """One caller owed a call back.

    caller: the number, or masked. deadline_at: UTC, the earliest of the caller's deadlines.
    working_seconds_left: float, working time until then (negative: overdue by that much).
    counting: the countdown runs now (opening hours on a working day).
    """

    key: str
    caller: str
    department: str
    line: str
    missed_at: datetime
    deadline_at: datetime
    working_seconds_left: float
    counting: bool
    overdue: bool
    tries_today: int
    priority: str
    met: str

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "caller": self.caller,
            "department": self.department,
            "line": self.line,
            "missed_at": self.missed_at.isoformat(),
            "deadline_at": self.deadline_at.isoformat(),
            "working_seconds_left": self.working_seconds_left,
            "counting": self.counting,
            "overdue": self.overdue,
            "tries_today": self.tries_today,
            "priority": self.priority,
            "met": self.met,
        }


def mask_number(number: str, region: str = "GB") -> str:
    """`number` with its middle hidden: ``+44 1382 ••• 101`` (country code, first group,
    the last `KEPT_DIGITS` digits); anything unparseable keeps only its last digits."""
    digits = [char for char in number if char.isdigit()]
    tail = "".join(digits[-KEPT_DIGITS:])
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return f"{MASK} {tail}"
    groups = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    head = groups.split()[:2]
    return " ".join([*head, MASK, tail])


def priority_of(tries_today: int) -> str:
    """The priority of a caller who tried `tries_today` times today."""
    return next(
        (name for fewest, name in PRIORITY_BY_TRIES if tries_today >= fewest),
        PRIORITY_BY_TRIES[-1][1],
    )


def met_text(missed: MissedCall | None) -> str:
    """What the caller met, e.g. ``abandoned after 4 rings``; ``missed`` when not known."""
    if missed is None or missed.outcome not in MET_TEXT:
        return "missed"
    return MET_TEXT[missed.outcome].format(rings=missed.rings or 0)


def work_list(
    owed: Iterable[CallbackObligation],
    missed: Mapping[CallKey, MissedCall],
    standards: Standards,
    now: datetime,
    show_numbers: bool = False,
) -> list[WorkRow]:
    """One row per caller of the `owed` obligations, the earliest deadline first.

    missed: what each missed call met, by (pbx, call_id). now: aware UTC."""
    by_caller: dict[str, list[CallbackObligation]] = defaultdict(list)
    for obligation in owed:
        by_caller[obligation.caller].append(obligation)
    zone = ZoneInfo(standards.calendar.timezone)
    today = now.astimezone(zone).date()
    counting = standards.is_working_time(now)
    rows = []
    for caller, obligations in by_caller.items():
        first_due = min(obligations, key=lambda ob: ob.deadline_at)
        latest = max(obligations, key=lambda ob: ob.missed_at)
        tries = sum(ob.missed_at.astimezone(zone).date() == today for ob in obligations)
        overdue = now >= first_due.deadline_at or any(
            ob.status is CallbackStatus.OVERDUE for ob in obligations
        )
        rows.append(
            WorkRow(
                key=f"{first_due.pbx}/{first_due.call_id}",
                caller=caller if show_numbers else mask_number(caller, standards.default_region),
                department=latest.department,
                line=latest.line,
                missed_at=latest.missed_at,
                deadline_at=first_due.deadline_at,
                working_seconds_left=_working_seconds_left(standards, now, first_due.deadline_at),
                counting=counting,
                overdue=overdue,
                tries_today=tries,
                priority=priority_of(tries),
                met=met_text(missed.get((latest.pbx, latest.call_id))),
            )
        )
    return sorted(rows, key=lambda row: (row.deadline_at, row.key))


def _working_seconds_left(standards: Standards, now: datetime, deadline_at: datetime) -> float:
    if now <= deadline_at:
        return standards.working_seconds(now, deadline_at)
    return -standards.working_seconds(deadline_at, now)
