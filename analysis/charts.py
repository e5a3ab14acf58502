"""The report's four charts, drawn with matplotlib onto axes the caller owns.

Every chart reads rows from `compliance_rows` (or the tally and obligations the
same rows come from), so a chart and the table beside it cannot disagree. They
are made for managers and for paper: plain titles and axis labels with units,
the Okabe-Ito colour-blind-safe palette, and every series also told apart by
hatching, marker or line style so a black-and-white print still reads. Titles
put the period on a line of their own, so two charts side by side never overlap;
counts are whole numbers on the axes and written as `analysis.display` writes
them; a chart with nothing to show says so over a plain 0-1 axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from analysis.display import count_text, plural
from ringtest.core.observations import Source

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))
SOURCE_STYLE = {
    Source.LIVE: {"color": OKABE_ITO[0], "hatch": "", "label": "Real calls"},
    Source.RING_TEST: {"color": OKABE_ITO[1], "hatch": "///", "label": "Mystery test calls"},
}
LATE_STYLE = {"color": OKABE_ITO[3], "hatch": "xx"}
TARGET_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.2}
MOST_RINGS_SHOWN = 20
"""Waits longer than this many rings share the last bar (``20+``)."""
TITLE_SIZE = 10
LEGEND_COLUMNS = 4


def new_figure(width_inches: float = 8.0, height_inches: float = 4.5) -> tuple[Figure, Axes]:
    """A figure (not registered with pyplot, so nothing leaks) and its one axes."""
    figure = Figure(figsize=(width_inches, height_inches), dpi=150, layout="constrained")
    return figure, figure.add_subplot()


def compliance_bars(
    ax: Axes, rows: pd.DataFrame, standard_rings: int, target_percent: float, when: str
) -> None:
    """Per department, % of calls a person answered within the standard, real vs test calls.

    rows: one row per (source, department) with within_standard_pct, its Wilson
    interval and offered; error bars show the 95 % interval. A mystery bar's label
    adds the share of its audited calls that announced our name, when there is one.
    """
    departments = sorted(rows["department"].unique(), reverse=True)
    positions = np.arange(len(departments))
    height = 0.38
    for offset, source in ((height / 2, Source.LIVE), (-height / 2, Source.RING_TEST)):
        style = SOURCE_STYLE[source]
        of_source = rows[rows["source"] == source].set_index("department").reindex(departments)
        value = of_source["within_standard_pct"].fillna(0).to_numpy()
        low = (value - of_source["wilson_low_pct"].fillna(0).to_numpy()).clip(0)
        high = (of_source["wilson_high_pct"].fillna(0).to_numpy() - value).clip(0)
        ax.barh(
            positions + offset,
            value,
            height,
            xerr=[low, high],
            color=style["color"],
            hatch=style["hatch"],
            edgecolor="black",
            linewidth=0.6,
            label=style["label"],
            error_kw={"elinewidth": 0.8, "capsize": 2},
        )
        noun = "test call" if source == Source.RING_TEST else "call"
        ivr = of_source["answered_by_ivr"].fillna(0).astype(int)
        offered = of_source["offered"].fillna(0).astype(int)
        named = of_source["announced_name_pct"]
        for y, pct, count, by_ivr, named_pct in zip(
            positions + offset, value, offered, ivr, named, strict=True
        ):
            text = f"{pct:.0f}% of {plural(count, noun)}" if count else f"no {noun}s"
            text += f" ({count_text(by_ivr)} answered by an IVR)" if by_ivr else ""
            text += f"; announced our name: {named_pct:.0f}%" if not pd.isna(named_pct) else ""
            ax.text(
                2,
                y,
                text,
                va="center",
                fontsize=7,
                clip_on=True,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
    ax.axvline(target_percent, **TARGET_STYLE, label=f"Target: {target_percent:.0f}%")
    ax.set_yticks(positions, departments)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel(
        f"Calls answered by a person within {standard_rings} rings (% of calls; "
        "the thin line is the 95% range)"
    )
    _title(ax, f"Calls answered within {standard_rings} rings", when)
    if not departments:
        ax.set_ylim(-0.5, 0.5)
        ax.text(50, 0, "No calls", ha="center", va="center")
    _legend_below(ax, ncol=3, fontsize=8, below_points=36)
    ax.grid(axis="x", alpha=0.3)


def rings_histogram(ax: Axes, histogram: pd.DataFrame, standard_rings: int, when: str) -> None:
    """How many rings callers heard before a person answered (real calls), standard marked.

    histogram: columns rings and calls (person-answered real calls).
    """
    capped = histogram.assign(rings=histogram["rings"].clip(upper=MOST_RINGS_SHOWN))
    calls = capped.groupby("rings")["calls"].sum()
    rings = np.arange(1, MOST_RINGS_SHOWN + 1)
    counts = calls.reindex(rings, fill_value=0).to_numpy()
    within = rings <= standard_rings
    ax.bar(
        rings[within],
        counts[within],
        0.8,
        color=OKABE_ITO[0],
        edgecolor="black",
        linewidth=0.6,
        label=f"Within standard (1-{standard_rings} rings)",
    )
    ax.bar(
        rings[~within],
        counts[~within],
        0.8,
        color=LATE_STYLE["color"],
        hatch=LATE_STYLE["hatch"],
        edgecolor="black",
        linewidth=0.6,
        label=f"Too slow (over {standard_rings} rings)",
    )
    ax.axvline(standard_rings + 0.5, **TARGET_STYLE, label=f"Standard: {standard_rings} rings")
    labels = [str(ring) for ring in rings[:-1]] + [f"{MOST_RINGS_SHOWN}+"]
    ax.set_xticks(rings, labels, fontsize=7)
    ax.set_xlabel("Rings the caller heard before a person answered")
    ax.set_ylabel("Calls answered")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(1, int(counts.max())) * 1.15)
    _title(ax, "How long callers waited", when)
    if not counts.any():
        ax.text(0.5, 0.5, "No calls answered by a person", transform=ax.transAxes, ha="center")
    ax.legend(fontsize=7, loc="best", framealpha=1)
    ax.grid(axis="y", alpha=0.3)


def callback_ecdf(
    ax: Axes,
    hours_by_department: Mapping[str, Sequence[float]],
    owed_by_department: Mapping[str, int],
    deadline_hours: float,
    deadline_text: str,
    when: str,
) -> None:
    """Share of the callbacks owed that were returned within x working hours, a line per
    department with callbacks owed.

    hours_by_department: working hours to each call back made. owed_by_department: every
    callback owed (returned or not). A callback not made, the caller still waiting,
    never reaches the curve, so it ends below 100 % while anyone waits.
    """
    owing = {name: owed for name, owed in sorted(owed_by_department.items()) if owed > 0}
    longest = max((max(hours, default=0.0) for hours in hours_by_department.values()), default=0.0)
    right = max(deadline_hours * 1.25, longest * 1.05)
    for index, (department, owed) in enumerate(owing.items()):
        values = np.sort(np.asarray(hours_by_department.get(department, ()), dtype=float))
        share = 100.0 * np.arange(1, len(values) + 1) / owed
        label = f"{department} ({count_text(len(values))} of {count_text(owed)} returned)"
        ax.step(
            np.concatenate([[0], values, [right]]),
            np.concatenate([[0], share, share[-1:] if len(share) else [0]]),
            where="post",
            color=OKABE_ITO[index % len(OKABE_ITO)],
            linestyle=LINE_STYLES[index % len(LINE_STYLES)],
            marker=MARKERS[index % len(MARKERS)],
            markevery=max(1, len(values) // 8),
            markersize=4,
            label=label,
        )
    ax.axvline(deadline_hours, **TARGET_STYLE, label=deadline_text)
    ax.set_ylim(0, 100)
    ax.set_xlim(0, right)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("Working hours from the missed call to the call back")
    ax.set_ylabel("Callbacks owed, returned (%)")
    _title(ax, "How fast missed calls were returned", when)
    if not owing:
        ax.text(0.5, 0.5, "No callbacks owed", transform=ax.transAxes, ha="center")
    ax.legend(fontsize=7, loc="upper left", framealpha=1)
    ax.grid(alpha=0.3)


def weekly_trend(
    ax: Axes, weekly_rows: pd.DataFrame, standard_rings: int, target_percent: float
) -> None:
    """% of real calls answered within the standard, week by week, one line per department.

    weekly_rows: live rows with period (``2026-W47``) and within_standard_pct; a week
    with no calls is a gap in its line.
    """
    starts = weekly_rows.drop_duplicates("period").set_index("period")["period_start"]
    weeks = sorted(starts.index)
    for index, (department, rows) in enumerate(weekly_rows.groupby("department", sort=True)):
        values = rows.set_index("period")["within_standard_pct"].reindex(weeks)
        ax.plot(
            range(len(weeks)),
            values.to_numpy(float),
            color=OKABE_ITO[index % 7],
            linestyle=LINE_STYLES[index % 7],
            marker=MARKERS[index % 7],
            markersize=5,
            label=department,
        )
    ax.axhline(target_percent, **TARGET_STYLE, label=f"Target: {target_percent:.0f}%")
    labels = [f"{pd.Timestamp(starts[week]):%d %b}\nweek {week[-2:]}" for week in weeks]
    ax.set_xticks(range(len(weeks)), labels, fontsize=7)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("Week starting (Monday)")
    ax.set_ylabel(f"Answered within {standard_rings} rings (%)")
    _title(ax, f"Calls answered within {standard_rings} rings", f"last {len(weeks)} weeks")
    _legend_below(ax, ncol=LEGEND_COLUMNS, fontsize=7, below_points=42)
    ax.grid(alpha=0.3)


def _legend_below(ax: Axes, ncol: int, fontsize: float, below_points: float) -> None:
    """The legend `below_points` (points: room for the tick labels and x label) under
    the axes, whatever their height, so it covers neither and stays in the figure."""
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0),
        ncol=ncol,
        fontsize=fontsize,
        framealpha=1,
        borderaxespad=below_points / fontsize,
    )


def _title(ax: Axes, what: str, when: str) -> None:
    """The chart's title: what it shows, then the period on its own line."""
    ax.set_title(f"{what}\n{when}", fontsize=TITLE_SIZE)
