"""Compliance with the answering standard: the one function every output reads.

`answering_compliance` turns measured calls into one row per group (department,
line, period...). The demo's headline, the weekly report and the live
dashboard all consume its rows, so they cannot disagree.

Definitions (also in the README's "How we measure"):

* offered: every live call to a monitored line, ring tests excluded;
* answered_by_person: a person picked up (voicemail and IVRs do not count);
* within_standard: a person picked up within the rings standard;
* within_standard_pct: within_standard / offered, with a Wilson 95 % interval
  (samples are often small);
* rings: whole rings heard before a person answered (median and 90th percentile
  over person-answered calls);
* abandoned, voicemail, busy, failed, incomplete: counts by outcome.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict

import pandas as pd

from ringtest.records import AnsweredBy, CallOutcome, CallRecord

Z_95 = 1.959963984540054
OUTCOME_COUNTS = (
    CallOutcome.ABANDONED,
    CallOutcome.VOICEMAIL,
    CallOutcome.BUSY,
    CallOutcome.FAILED,
    CallOutcome.INCOMPLETE,
)
COLUMNS = (
    "offered",
    "answered_by_person",
    "within_standard",
    "within_standard_pct",
    "wilson_low_pct",
    "wilson_high_pct",
    "median_rings",
    "p90_rings",
    *(outcome.value for outcome in OUTCOME_COUNTS),
)


def calls_frame(calls: Iterable[CallRecord]) -> pd.DataFrame:
    """Calls as a DataFrame with the export schema's columns (empty frame if none)."""
    rows = [asdict(call) for call in calls]
    if not rows:
        return pd.DataFrame(columns=[f for f in CallRecord.__dataclass_fields__])
    return pd.DataFrame(rows)


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95 % interval for a proportion, as (low, high) fractions; (nan, nan) if 0."""
    if trials == 0:
        return (math.nan, math.nan)
    p = successes / trials
    denominator = 1 + Z_95**2 / trials
    centre = (p + Z_95**2 / (2 * trials)) / denominator
    half = Z_95 * math.sqrt(p * (1 - p) / trials + Z_95**2 / (4 * trials**2)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def answering_compliance(frame: pd.DataFrame, by: Sequence[str] = ("department",)) -> pd.DataFrame:
    """One row per group of `by` with the COLUMNS above; ring tests are left out."""
    live = frame[~frame["is_test_call"].astype(bool)] if len(frame) else frame
    groups = live.groupby(list(by), sort=True, dropna=False) if len(live) else []
    rows = [_row(key if isinstance(key, tuple) else (key,), group, by) for key, group in groups]
    return pd.DataFrame(rows, columns=[*by, *COLUMNS])


def _row(key: tuple, group: pd.DataFrame, by: Sequence[str]) -> dict:
    offered = len(group)
    person = group["answered_by"] == AnsweredBy.PERSON
    within = int(group["within_standard"].astype(bool).sum())
    low, high = wilson_interval(within, offered)
    rings = group.loc[person, "rings"].dropna().astype(float)
    outcomes = group["outcome"].value_counts()
    return {
        **dict(zip(by, key, strict=True)),
        "offered": offered,
        "answered_by_person": int(person.sum()),
        "within_standard": within,
        "within_standard_pct": 100.0 * within / offered,
        "wilson_low_pct": 100.0 * low,
        "wilson_high_pct": 100.0 * high,
        "median_rings": rings.median() if len(rings) else math.nan,
        "p90_rings": rings.quantile(0.9) if len(rings) else math.nan,
        **{outcome.value: int(outcomes.get(outcome, 0)) for outcome in OUTCOME_COUNTS},
    }
