"""`ringtest publish`: a static public page of our standards and one period's results.

One self-contained `index.html` (no scripts, no external files) that states the
published standards and, per department, how a period went (by default the last
whole month; `ringtest publish --week` or `--from/--to` choose another, as for
`ringtest report`): calls, the share
answered by a person within the standard, and the share of missed calls returned
in time, with mystery test calls beside them. Only counts and percentages from
`compliance_rows` are shown: no caller numbers, names or single calls.

Small numbers are suppressed: a count of calls (or of missed calls owed a
callback) below `publish.min_count`, and every percentage computed from it, is
shown as "fewer than N", so that "1 call, 0 % answered" cannot tell a caller or
their neighbour about one call. Mystery calls are ringtest's own and are shown
as they are.

With `publish.show_announced_name`, the page also shows, per department, the share of
audited mystery calls in which the answerer announced our name
(`analysis.announced_name`: counts of mystery calls, no transcript and no name of staff).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.announced_name import ANNOUNCED_NAME_NOTE, announced_name_cell
from analysis.periods import previous_month
from analysis.report import ReportPeriod
from analysis.report_data import gather_report
from analysis.summary_html import STYLE, table_html
from ringtest.config import Settings
from ringtest.core.errors import ReportError
from ringtest.core.observations import Source
from ringtest.store import Store

PAGE_NAME = "index.html"
ANNOUNCED_NAME_COLUMN = "Mystery calls that announced our name"
"""The heading of the column `publish.show_announced_name` adds."""


def last_month_period(now: datetime, zone: ZoneInfo) -> ReportPeriod:
    """The last whole calendar month before `now`, named like ``November 2026``."""
    since, until = previous_month(now, zone)
    month = f"{since.astimezone(zone):%B %Y}"
    return ReportPeriod(since, until, f"Telephone standards, {month}", month)


def write_public_page(
    settings: Settings,
    store: Store,
    out_dir: Path,
    now: datetime,
    period: ReportPeriod | None = None,
) -> Path:
    """Write `index.html` for `period` (default: the last whole month before `now`) into
    `out_dir`; the page names the period by its `when` and its first and last local day."""
    zone = ZoneInfo(settings.calendar.timezone)
    period = period or last_month_period(now, zone)
    when = period.when
    first_day = period.since.astimezone(zone).date()
    last_day = (period.until - timedelta(microseconds=1)).astimezone(zone).date()
    data = gather_report(
        settings,
        store,
        period.since,
        period.until,
        f"Our telephone service, {when}",
        when,
        now=now,
    )
    rings = settings.standards.answer_within_rings
    days = settings.standards.callback_within_working_days
    day_text = f"{days} working day{'s' if days > 1 else ''}"
    min_count = settings.publish.min_count
    named = settings.publish.show_announced_name
    table = _results(data.rows, rings, day_text, min_count, named)
    named_note = f"<p id='announced-name'>{escape(ANNOUNCED_NAME_NOTE)}</p>" if named else ""
    body = table_html(table) if len(table) else "<p>No calls were measured in this period.</p>"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(data.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(data.title)}</h1>"
        "<h2>Our standards</h2><ul>"
        f"<li id='answer-standard'>A person answers your call within {rings} rings.</li>"
        f"<li id='callback-standard'>If we miss your call, we call you back within "
        f"{escape(day_text)}.</li>"
        f"<li>We aim to meet the answering standard for "
        f"{settings.report.target_percent:.0f}% of calls.</li></ul>"
        f"<h2>How we did, {escape(when)}</h2>"
        f"<p id='period'>Calls from {first_day:%-d %B %Y} to {last_day:%-d %B %Y}, "
        "both days included.</p>"
        f"{body}"
        "<p>We measure every call to these lines automatically, and we also make our own "
        "mystery test calls. Counts and percentages only: no caller is identified.</p>"
        f"{named_note}"
        f"<p id='small-numbers'>Where a department had fewer than {min_count} calls, or "
        f"fewer than {min_count} missed calls to return, we do not show the number or the "
        "percentage, so that no single call can be recognised.</p>"
        "</body></html>"
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / PAGE_NAME
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportError(
            f"cannot write the public page to '{out_dir}' ({error.strerror or error}): "
            "choose another --out"
        ) from None
    return path


def _results(
    rows: pd.DataFrame, rings: int, day_text: str, min_count: int, show_announced_name: bool
) -> pd.DataFrame:
    live = rows[rows["source"] == Source.LIVE].set_index("department")
    tests = rows[rows["source"] == Source.RING_TEST].set_index("department")
    table = []
    for department in sorted(rows["department"].unique()):
        row = live.loc[department] if department in live.index else None
        test = tests.loc[department] if department in tests.index else None
        calls = 0 if row is None else int(row["offered"])
        owed = 0 if row is None else int(row["callbacks_owed"])
        table.append(
            {
                "Department": department,
                "Calls": _unless_few(calls, min_count, f"{calls:,}"),
                f"Answered within {rings} rings": _unless_few(
                    calls, min_count, _percent(row, "within_standard_pct")
                ),
                f"Missed calls returned within {day_text}": _unless_few(
                    owed, min_count, _percent(row, "called_back_within_standard_pct")
                ),
                f"Mystery calls answered within {rings} rings": "none made"
                if test is None or not test["offered"]
                else f"{int(test['within_standard'])} of {int(test['offered'])}",
            }
            | ({ANNOUNCED_NAME_COLUMN: announced_name_cell(test)} if show_announced_name else {})
        )
    return pd.DataFrame(table)


def _unless_few(count: int, min_count: int, shown: str) -> str:
    """`shown`, or "fewer than `min_count`" when `count` is a small number above 0."""
    return f"fewer than {min_count}" if 0 < count < min_count else shown


def _percent(row: pd.Series | None, name: str) -> str:
    return "-" if row is None or pd.isna(row[name]) else f"{row[name]:.0f}%"
