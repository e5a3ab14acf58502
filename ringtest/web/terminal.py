"""The live view on a terminal: one rich frame from one snapshot, for `ringtest watch`.

`frame` turns the snapshot the server pushes (`analysis.live_view.snapshot`,
decoded from JSON) into a rich renderable: nothing here counts, judges or masks.
Ring states, work-list order, priorities, masked numbers and whether the
figures are whole all come from the server's views, so the terminal, the page
and the JSON API show the same figures.

The frame, top to bottom:

* a header: the server's address, whether the link is live or being
  re-established, the standard, the time of the snapshot (local);
* the banner when the figures are not whole, with why;
* the listener's health;
* one row per department: calls ringing now with each call's rings (amber from
  one ring before the standard, red past it), the longest wait, today's %
  answered within the standard with its count, missed today, callbacks owed,
  overdue and the nearest deadline, today's ring tests by outcome;
* the callback work list's first `top` rows, nearest deadline first.

A frame taller than the terminal is cut at the bottom (`rich.live`), so what
matters most comes first and the work list last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

STATE_STYLES: Mapping[str, str] = {"ok": "green", "amber": "bold yellow", "red": "bold red"}
"""The style of a ring count by the server's ring state (`analysis.live_board.ring_state`)."""

DEFAULT_TOP = 10
"""Work-list rows shown by default."""

NONE = "–"
"""What an empty figure shows."""

Json = Mapping[str, Any]


@dataclass(frozen=True)
class LinkStatus:
    """The link to the server as the header shows it. lost_reason: None while live;
    lost_for_seconds: how long the link has been down."""

    url: str
    lost_reason: str | None = None
    lost_for_seconds: float = 0.0


def frame(snapshot: Json, link: LinkStatus, zone: ZoneInfo, top: int = DEFAULT_TOP) -> Group:
    """The whole screen for `snapshot`; times shown in `zone`; `top` work-list rows."""
    health = snapshot["health"]
    parts: list[RenderableType] = [header(snapshot, link, zone)]
    if not health["figures_whole"]:
        parts.append(
            Text(
                "Figures are not whole: " + "; ".join(health["not_whole_because"]),
                style="bold white on red",
            )
        )
    parts += [
        health_text(health, zone),
        departments_table(snapshot["departments"], snapshot["ringing"], zone),
        work_list_table(snapshot["callbacks"]["rows"], zone, top),
    ]
    return Group(*parts)


def header(snapshot: Json, link: LinkStatus, zone: ZoneInfo) -> Text:
    standard = snapshot["standard"]
    text = Text.assemble(("ringtest watch", "bold"), f"  {link.url}  ")
    if link.lost_reason is None:
        text.append("live", style="bold green")
    else:
        text.append(
            f"reconnecting… link lost {link.lost_for_seconds:.0f} s ago ({link.lost_reason}); "
            "showing the last state",
            style="bold black on yellow",
        )
    text.append(
        f"  standard: {standard['answer_within_rings']} rings of "
        f"{standard['seconds_per_ring']:g} s  at {clock(snapshot['now'], zone, seconds=True)}"
    )
    return text


def departments_table(
    departments: Sequence[Json], ringing: Sequence[Json], zone: ZoneInfo
) -> Table:
    table = Table(
        title="Departments today", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False
    )
    for column, justify in DEPARTMENT_COLUMNS:
        table.add_column(column, justify=justify)
    for panel in departments:
        name = panel["department"]
        calls = [call for call in ringing if call["department"] == name]
        next_due = panel["closest_deadline_at"]
        table.add_row(
            name,
            ringing_cell(calls),
            wait_cell(panel),
            within_cell(panel),
            str(panel.get("missed", 0)),
            str(panel["callbacks_owed_now"]),
            Text(str(panel["callbacks_overdue_now"]), style="bold red")
            if panel["callbacks_overdue_now"]
            else "0",
            NONE if next_due is None else due(next_due, zone),
            ring_tests_cell(panel),
        )
    return table


DEPARTMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Department", "left"),
    ("Ringing now (rings)", "left"),
    ("Longest wait", "right"),
    ("Within standard", "right"),
    ("Missed", "right"),
    ("To call back", "right"),
    ("Overdue", "right"),
    ("Next due", "left"),
    ("Ring tests", "left"),
)
"""The department table's columns and their alignment."""


def ringing_cell(calls: Sequence[Json]) -> Text:
    """``2: 7, 4 rings``, each count styled by its call's ring state; ``0`` when none rings."""
    if not calls:
        return Text("0")
    text = Text(f"{len(calls)}: ")
    for index, call in enumerate(calls):
        if index:
            text.append(", ")
        text.append(str(call["rings"]), style=STATE_STYLES[call["state"]])
    text.append(" rings")
    return text


def wait_cell(panel: Json) -> Text:
    if panel["longest_wait_seconds"] is None:
        return Text(NONE)
    return Text(
        f"{panel['longest_wait_rings']} rings {duration(panel['longest_wait_seconds'])}",
        style=STATE_STYLES[panel["longest_wait_state"]],
    )


def within_cell(panel: Json) -> str:
    pct = panel["within_standard_pct"]
    share = NONE if pct is None else f"{pct:.1f} %"
    return f"{share} ({panel.get('within_standard', 0)} of {panel.get('offered', 0)})"


def ring_tests_cell(panel: Json) -> str:
    outcomes = ", ".join(
        f"{count} {outcome.replace('_', ' ')}"
        for outcome, count in panel.get("ring_test_outcomes", {}).items()
    )
    return f"{panel.get('ring_tests', 0)}" + (f": {outcomes}" if outcomes else "")


def work_list_table(rows: Sequence[Json], zone: ZoneInfo, top: int) -> Table:
    more = len(rows) - top
    table = Table(
        title=f"Callers to call back ({len(rows)})",
        title_justify="left",
        caption=f"and {more} more" if more > 0 else None if rows else "no one to call back",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("Priority", "Caller", "Department", "Met", "Tries today", "Due", "Left"):
        table.add_column(column)
    for row in rows[:top]:
        table.add_row(
            Text(row["priority"], style=PRIORITY_STYLES.get(row["priority"], "")),
            row["caller"],
            row["department"],
            row["met"],
            str(row["tries_today"]),
            due(row["deadline_at"], zone),
            left_cell(row),
        )
    return table


PRIORITY_STYLES: Mapping[str, str] = {"urgent": "bold red", "high": "bold yellow"}
"""The style of a work-list priority (`analysis.work_list.PRIORITY_BY_TRIES`)."""


def left_cell(row: Json) -> Text:
    """The working time left: ``0:42:10``, ``overdue 0:05:00``, ``(paused: closed)``."""
    seconds = row["working_seconds_left"]
    text = Text(
        f"overdue {duration(-seconds)}" if row["overdue"] else duration(seconds),
        style="bold red" if row["overdue"] else "",
    )
    if not row["counting"]:
        text.append(" (paused: closed)", style="dim")
    return text


def health_text(health: Json, zone: ZoneInfo) -> Text:
    """One line of the listener's health, as the page's health list."""
    connected = (
        Text(f"connected since {clock(health['connected_since'], zone)}", style="green")
        if health["connected"]
        else Text("not connected", style="bold red")
    )
    age = health["last_event_age_seconds"]
    offset = health["clock_offset_seconds"]
    return Text.assemble(
        ("Listener: ", "bold"),
        connected,
        "  last event ",
        "none yet" if age is None else f"{age:.0f} s ago",
        "  PBX clock ",
        "not measured" if offset is None else f"{offset:+.3f} s from ours",
        f"  anomalies {health['anomalies']}",
        f"  oversize frames {health['oversize_frames']}",
        f"  write errors {health['write_errors']}",
    )


def duration(seconds: float) -> str:
    """``h:mm:ss`` of whole seconds (rounded), with a sign when negative."""
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(round(abs(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def clock(iso: str | None, zone: ZoneInfo, seconds: bool = False) -> str:
    """``HH:MM`` (or ``HH:MM:SS``) in `zone` of an ISO 8601 time; empty for None."""
    if iso is None:
        return ""
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%H:%M:%S" if seconds else "%H:%M")


def due(iso: str, zone: ZoneInfo) -> str:
    """``Fri 14:05`` in `zone`: a deadline may be days away."""
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%a %H:%M")
