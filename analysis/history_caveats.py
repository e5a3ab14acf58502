"""What history imported from the PBX's CDR cannot say, as the report says it.

A CDR's times are whole seconds, and where the PBX answered the caller first it
has no ring time at all. `compliance_rows` counts both apart
(`within_standard_uncertain`, `ring_time_unknown`); this module writes them beside
the % within the standard (`within_cell`: ``67% (±1 s CDR: 2)``) and as sentences
under the figures (`history_caveats`), so the PDF and the HTML summary say the same.
"""

from __future__ import annotations

import pandas as pd

from analysis.display import MISSING, UNCERTAIN_MARK, UNKNOWN_MARK, plural, within_text

HISTORY_CAVEATS = {
    "within_standard_uncertain": (
        f"{UNCERTAIN_MARK}: {{calls}} imported from the CDR, answered so near the standard's "
        "last ring that its whole seconds could put them on either side."
    ),
    "ring_time_unknown": (
        f"{UNKNOWN_MARK[0].upper()}{UNKNOWN_MARK[1:]}: {{calls}} imported from the CDR, "
        "where the PBX answered first: counted as calls, never as within the standard."
    ),
}
"""Per compliance column, the sentence that explains its count ({calls}: "2 calls")."""


def within_cell(row: pd.Series | None) -> str:
    """A compliance row's % within the standard with its history caveats; none: ``-``."""
    if row is None:
        return MISSING
    uncertain, unknown = (int(row[name]) for name in HISTORY_CAVEATS)
    return within_text(row["within_standard_pct"], uncertain, unknown)


def history_caveats(rows: pd.DataFrame) -> str:
    """The caveats of compliance `rows` summed, as sentences each after a space ("" if none)."""
    return "".join(
        f" {text.format(calls=plural(int(rows[name].sum()), 'call'))}"
        for name, text in HISTORY_CAVEATS.items()
        if rows[name].sum()
    )
