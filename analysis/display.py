"""Figures as the text a manager reads: one spelling of each kind of number in every output.

The PDF, the HTML summary, the email and the charts' labels all write their numbers
through these functions, so a count reads "13,724" everywhere and a missing
figure (no calls to divide by) reads "-".
"""

from __future__ import annotations

import math

MISSING = "-"


def count_text(count: float) -> str:
    """A whole count with thousands separators: 13724 -> ``13,724``."""
    return f"{int(count):,}"


def percent_text(percent: float | None) -> str:
    """A percentage, whole points: 66.67 -> ``67%``; None or NaN -> ``-``."""
    return MISSING if _missing(percent) else f"{percent:.0f}%"


def coverage_text(percent: float | None) -> str:
    """A coverage percentage, never rounded up to whole: 100 -> ``100%``, 99.96 ->
    ``99.9%``, 87.25 -> ``87.2%``; None or NaN -> ``-``."""
    if _missing(percent):
        return MISSING
    if percent >= 100.0:
        return "100%"
    return f"{math.floor(percent * 10) / 10:.1f}%"


def number_text(value: float | None) -> str:
    """A measured number (rings, hours) to one decimal place, none when whole:
    7.0 -> ``7``, 11.85 -> ``11.8``, 1234.5 -> ``1,234.5``; None or NaN -> ``-``."""
    if _missing(value):
        return MISSING
    return f"{value:,.1f}".removesuffix(".0")


UNCERTAIN_MARK = "±1 s CDR"
"""Beside a % within the standard: calls whose whole-second ring time could be either side."""
UNKNOWN_MARK = "ring time not in the CDR"
"""Beside a % within the standard: calls whose history has no ring time."""


def within_text(percent: float | None, uncertain: int, unknown: int) -> str:
    """The % within the standard with what imported history cannot say beside it:
    ``67%``, ``67% (±1 s CDR: 2)``, ``67% (±1 s CDR: 2; ring time not in the CDR: 3)``."""
    caveats = [
        f"{mark}: {count_text(count)}"
        for mark, count in ((UNCERTAIN_MARK, uncertain), (UNKNOWN_MARK, unknown))
        if count
    ]
    text = percent_text(percent)
    return f"{text} ({'; '.join(caveats)})" if caveats else text


UNSURE_MARK = "unsure"
"""Beside the share that announced our name: audited tests whose verdict was unsure."""


def announced_name_text(announced: int, not_announced: int, unsure: int, percent: float) -> str:
    """The share of audited mystery calls that announced our name, of those with a yes or
    no verdict, and the unsure ones apart: ``90% (9 of 10)``, ``90% (9 of 10; unsure: 1)``;
    none judged: ``-``, or ``- (unsure: 2)``."""
    judged = announced + not_announced
    counts = [f"{count_text(announced)} of {count_text(judged)}"] if judged else []
    counts += [f"{UNSURE_MARK}: {count_text(unsure)}"] if unsure else []
    text = percent_text(percent)
    return f"{text} ({'; '.join(counts)})" if counts else text


def plural(count: int, noun: str) -> str:
    """``1 call``, ``2 calls``, ``13,724 calls``."""
    return f"{count_text(count)} {noun}{'' if count == 1 else 's'}"


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)
