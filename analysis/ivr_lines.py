"""Lines answered by a menu (IVR), navigated to a person: one row per line.

Pure: the period's ring tests in, a table out. A ring test went through a menu
when it has `RingTestResult.ivr_keys`; its rings after the last key are the ones
the standard counts, and its time to a person runs from dialling to the person
answering after the keys (`ringtest.sip.ivr_measure`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ringtest.core.records import AnsweredBy, RingTestResult

IVR_LINE_COLUMNS = (
    "department",
    "keys",
    "tests",
    "reached a person",
    "within standard",
    "median rings after the keys",
    "median seconds to a person",
)


def ivr_lines(tests: Iterable[RingTestResult]) -> pd.DataFrame:
    """Per department and keys: tests, people reached, within the standard, and the
    medians of the rings after the keys and of the seconds to a person (blank: none)."""
    rows = [
        {
            "department": test.department,
            "keys": test.ivr_keys,
            "person": test.answered_by is AnsweredBy.PERSON,
            "within": test.within_standard,
            "rings": test.rings_after_ivr,
            "to_person": test.to_person_seconds,
        }
        for test in tests
        if test.ivr_keys is not None
    ]
    if not rows:
        return pd.DataFrame(columns=list(IVR_LINE_COLUMNS))
    grouped = pd.DataFrame(rows).groupby(["department", "keys"], as_index=False)
    table = grouped.agg(
        tests=("person", "size"),
        people=("person", "sum"),
        within=("within", "sum"),
        rings=("rings", "median"),
        to_person=("to_person", "median"),
    )
    table.columns = list(IVR_LINE_COLUMNS)
    return table


def ivr_lines_text(table: pd.DataFrame) -> pd.DataFrame:
    """`ivr_lines` as display text: counts whole, medians to one decimal, '-' for none."""
    shown = table.copy()
    for column in ("median rings after the keys", "median seconds to a person"):
        shown[column] = [
            "-" if pd.isna(value) else f"{value:.1f}" for value in shown[column].astype(float)
        ]
    for column in ("tests", "reached a person", "within standard"):
        shown[column] = [str(int(value)) for value in shown[column]]
    return shown


def ivr_lines_caption(when: str) -> str:
    """What the table of lines through a menu shows, for the period `when`."""
    return f"Menus navigated with their keys, {when}: rings after the keys and time to a person"
