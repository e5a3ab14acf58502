"""The "announced our name" figure as text: the report's column and the public page's.

The standard asks staff to "clearly announce our name" when they answer. The greeting
audit (`ringtest.sources.greeting_audits`) judges each ring test a person answered:
yes, no or unsure. `compliance_rows` counts the verdicts per department
(`announced_name`, `name_not_announced`, `announced_name_unsure`) and gives the share
that said the name, of the tests with a yes or no verdict, with its Wilson 95 %
interval. Unsure verdicts (no speech heard, words outside the recogniser's dictionary)
are neither: they are shown as a count beside the share. A department with no test
judged yes or no shows "-", never 0 %. Live calls are not audited.
"""

from __future__ import annotations

import pandas as pd

from analysis.display import MISSING, announced_name_text

ANNOUNCED_NAME_NOTE = (
    "Announced our name: of the mystery calls a person answered whose greeting was "
    "audited, the share in which they said the department's name; calls where the audit "
    "could not tell are counted apart as unsure, not in the share."
)
"""What the column means, in one sentence beside the tables that show it."""


def announced_name_cell(row: pd.Series | None) -> str:
    """A `compliance_rows` row's share that announced our name (`announced_name_text`);
    "-" for no row."""
    if row is None:
        return MISSING
    return announced_name_text(
        int(row["announced_name"]),
        int(row["name_not_announced"]),
        int(row["announced_name_unsure"]),
        row["announced_name_pct"],
    )


def announced_name_range(row: pd.Series | None) -> str:
    """The Wilson 95 % interval of a row's share that announced our name, ``60-98%``;
    "-" for no row or no test judged yes or no."""
    if row is None or pd.isna(row["announced_name_wilson_low_pct"]):
        return MISSING
    low, high = row["announced_name_wilson_low_pct"], row["announced_name_wilson_high_pct"]
    return f"{low:.0f}-{high:.0f}%"
