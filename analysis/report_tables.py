"""The report's tables and sentences, in words a manager reads, from one `ReportData`.

`headline` is the summary table (a row per department), `sources_table` a
department's real calls beside its mystery calls, and the `*_text` functions the
sentences every output states (standards, quiet departments, coverage, callbacks,
mystery calls). The PDF, the HTML summary, the email and the demo all read these,
so they say the same thing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from analysis.announced_name import announced_name_cell, announced_name_range
from analysis.display import (
    MISSING,
    count_text,
    coverage_text,
    number_text,
    percent_text,
    plural,
)
from analysis.history_caveats import history_caveats, within_cell
from analysis.report_data import ReportData
from ringtest.core.observations import Source

STEADY_POINTS = 1.0
"""A change in % within the standard smaller than this many points reads as steady."""
SOURCE_COLUMNS = {
    "offered": "Calls",
    "within_standard_pct": "Within standard",
    "median_rings": "Median rings",
    "p90_rings": "Rings for 9 in 10",
    "service_level_pct": "Of answered, within standard",
    "abandoned": "Caller gave up",
    "voicemail": "Voicemail",
    "busy": "Busy",
    "answered_by_ivr": "Answered by an IVR, not a person",
    "incomplete": "Not fully seen",
    "announced_name_pct": "Announced our name",
}
"""The columns of a department's real-beside-mystery table, and their headings."""


def headline(data: ReportData) -> pd.DataFrame:
    """The summary table: one row per department, in words a manager reads.

    Columns are the table's headings; values are display text.
    """
    live = data.rows[data.rows["source"] == Source.LIVE].set_index("department")
    tests = data.rows[data.rows["source"] == Source.RING_TEST].set_index("department")
    rings = data.standard_rings
    days = f"{data.callback_days} working day{'s' if data.callback_days > 1 else ''}"
    table = []
    for department in data.departments():
        row = live.loc[department] if department in live.index else None
        test = tests.loc[department] if department in tests.index else None
        table.append(
            {
                "Department": department,
                "Calls": _count(row, "offered"),
                f"Answered within {rings} rings": within_cell(row),
                "95% range": _range(row),
                "Not fully seen": _count(row, "incomplete"),
                "Listener saw the PBX": _coverage(row),
                "Median rings": _number(row, "median_rings"),
                "Missed calls": _count(row, "missed"),
                f"Returned within {days}": _percent(row, "called_back_within_standard_pct"),
                "Callbacks not yet due": _count(row, "callbacks_not_yet_due"),
                "Still owed": _owed(row),
                "Mystery calls within standard": mystery_calls_text(test),
                "Mystery calls that announced our name": announced_name_cell(test),
                "Announced our name: 95% range": announced_name_range(test),
                "Compared with earlier weeks": _trend(data, department),
            }
        )
    return pd.DataFrame(table)


def standards_text(data: ReportData) -> str:
    """The standards and target in one sentence, as every output states them."""
    days = f"{data.callback_days} working day{'s' if data.callback_days > 1 else ''}"
    return (
        f"Our standards: a person answers within {data.standard_rings} rings, and missed calls "
        f"are returned within {days}. Target: {data.target_percent:.0f}% of calls within the "
        "answering standard."
    )


def calls_text(data: ReportData) -> str:
    """Which departments had no calls in the period, in one sentence ("" when all had some)."""
    quiet = [name for name in data.departments() if name not in data.departments_with_calls()]
    if not data.departments_with_calls() and len(quiet) != 1:
        return f"There were no calls to any monitored line in {data.when}."
    if not quiet:
        return ""
    return f"No calls to {_listed(quiet)} in {data.when}."


def coverage_note(data: ReportData) -> str:
    """How much of the period the listener saw the PBX, and the calls it did not see
    whole, in one sentence: what the live figures may be missing."""
    live = data.rows[data.rows["source"] == Source.LIVE]
    unseen = int(live["incomplete"].sum())
    share = live["coverage_pct"].min() if len(live) else float("nan")
    seen = f"The listener saw the PBX for {coverage_text(share)} of the period"
    if pd.isna(share) or share >= 100.0:
        seen = "The listener saw the PBX for the whole period"
    history = history_caveats(live)
    if not unseen:
        return f"{seen}.{history}"
    return (
        f"{seen}; {plural(unseen, 'call')} it did not see whole "
        f"(not fully seen) are counted apart, not as answered or missed.{history}"
    )


def callback_states_text(data: ReportData) -> str:
    """How the period's callback figures are judged, as of the report's `now`."""
    at = data.now.astimezone(ZoneInfo(data.timezone))
    return (
        f"Callbacks are judged at {at:%d %b %Y %H:%M}: a missed call whose deadline is "
        "still ahead is not yet due, and the share returned in time is of the missed calls "
        "whose deadline has passed."
    )


def mystery_sentence(data: ReportData) -> str:
    """A one-department report's mystery calls in a sentence, saying when an IVR answered."""
    tests = data.rows[data.rows["source"] == Source.RING_TEST]
    text = mystery_calls_text(tests.iloc[0] if len(tests) else None)
    return f"Mystery test calls within the standard: {text}."


def mystery_calls_text(test: pd.Series | None) -> str:
    """Mystery calls within the standard, and why the others failed where it was an IVR."""
    if test is None or not test["offered"]:
        return "none made"
    text = f"{count_text(test['within_standard'])} of {count_text(test['offered'])}"
    ivr = int(test["answered_by_ivr"])
    return text if not ivr else f"{text} ({count_text(ivr)} answered by an IVR)"


def callbacks_text(data: ReportData) -> str:
    """The department's callbacks in the three states, in one sentence."""
    live = data.rows[data.rows["source"] == Source.LIVE]
    if live.empty or not live["callbacks_owed"].sum():
        return "Callbacks owed for this period's missed calls: none."
    row = live.iloc[0]
    return (
        f"Callbacks owed for this period's missed calls: {count_text(row['callbacks_owed'])} "
        f"({count_text(row['called_back_within_standard'])} returned in time, "
        f"{count_text(row['callbacks_late_or_never'])} returned late or never, "
        f"{count_text(row['callbacks_not_yet_due'])} not yet due: deadline still ahead)."
    )


def sources_table(data: ReportData) -> pd.DataFrame:
    """Real calls beside mystery test calls, for a report of one department."""
    rows = data.rows
    names = {Source.LIVE: "Real calls", Source.RING_TEST: "Mystery test calls"}
    table = []
    for source, label in names.items():
        found = rows[rows["source"] == source]
        row = found.iloc[0] if len(found) else None
        table.append(
            {
                "": label,
                **{title: _source_cell(row, name) for name, title in SOURCE_COLUMNS.items()},
            }
        )
    return pd.DataFrame(table)


def _source_cell(row: pd.Series | None, name: str) -> str:
    if row is None:
        return MISSING if name != "offered" else "0"
    if name == "within_standard_pct":
        return within_cell(row)
    if name == "announced_name_pct":
        return announced_name_cell(row)
    if name.endswith("_pct"):
        return percent_text(row[name])
    if name.endswith("_rings"):
        return number_text(row[name])
    return count_text(row[name])


def _listed(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _count(row: pd.Series | None, name: str) -> str:
    return "0" if row is None else count_text(row[name])


def _percent(row: pd.Series | None, name: str) -> str:
    return MISSING if row is None else percent_text(row[name])


def _number(row: pd.Series | None, name: str) -> str:
    return MISSING if row is None else number_text(row[name])


def _coverage(row: pd.Series | None) -> str:
    return MISSING if row is None else coverage_text(row["coverage_pct"])


def _range(row: pd.Series | None) -> str:
    if row is None or pd.isna(row["wilson_low_pct"]):
        return MISSING
    return f"{row['wilson_low_pct']:.0f}-{row['wilson_high_pct']:.0f}%"


def _owed(row: pd.Series | None) -> str:
    if row is None:
        return "0"
    return count_text(int(row["callbacks_open"]) + int(row["callbacks_overdue"]))


def _trend(data: ReportData, department: str) -> str:
    weekly = data.weekly[
        (data.weekly["source"] == Source.LIVE) & (data.weekly["department"] == department)
    ]
    earlier = weekly[pd.to_datetime(weekly["period_start"]) < _local_start(data)]
    current = data.rows[
        (data.rows["source"] == Source.LIVE) & (data.rows["department"] == department)
    ]
    if current.empty or not current["offered"].sum() or not earlier["offered"].sum():
        return "no earlier calls"
    before = 100.0 * earlier["within_standard"].sum() / earlier["offered"].sum()
    change = float(current["within_standard_pct"].iloc[0]) - before
    if abs(change) < STEADY_POINTS:
        return "steady"
    return f"{'better' if change > 0 else 'worse'} ({change:+.0f} points)"


def _local_start(data: ReportData) -> pd.Timestamp:
    return pd.Timestamp(data.since.astimezone(ZoneInfo(data.timezone)).date())
