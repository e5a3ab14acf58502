"""The PDF report: a summary page, then one page per department with calls (A4 landscape).

The summary page states the standards, how callbacks are judged and what the
"announced our name" column counts, says which departments had no calls (every
configured department still has its line in the table, with 0 calls), and shows
the headline table and the compliance chart. Each department's page repeats its
line of the table with real calls beside mystery test calls, how its callbacks
stand, then its rings distribution, callback times and 12-week trend. Written with matplotlib's
`PdfPages`, so the charts are the same drawings as the PNGs.

Layout is measured, not hoped for: table columns are as wide as their longest
line (text is never clipped; the font shrinks when a table is too wide for the
page), and every legend sits inside the page. `tests/analysis/test_report_pages.py`
renders each page and fails on any mark in the page's margins. The PDF is not
tagged: the HTML summary (`analysis.summary_html`) is the accessible version.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from analysis import charts
from analysis.announced_name import ANNOUNCED_NAME_NOTE
from analysis.ivr_lines import ivr_lines_caption, ivr_lines_text
from analysis.report_data import ReportData
from analysis.report_tables import (
    callback_states_text,
    callbacks_text,
    calls_text,
    coverage_note,
    headline,
    mystery_sentence,
    sources_table,
    standards_text,
)
from ringtest.core.observations import Source

A4_LANDSCAPE_INCHES = (11.69, 8.27)
LEFT, WIDTH = 0.04, 0.92
"""Where text and tables sit across the page (fractions of its width)."""
TABLE_FONT_POINTS = 8.0
SMALLEST_FONT_POINTS = 5.5
CHARACTER_WIDTH_EMS = 0.62
"""A generous average width of a DejaVu Sans character, in ems (font sizes)."""
POINTS_PER_INCH = 72.0
CELL_CHARACTERS = 24
"""Cell text wraps at this many characters, header text at HEADER_CHARACTERS."""
HEADER_CHARACTERS = 14
BAR_ROW_INCHES = 0.28
"""Height of one department's pair of bars in the compliance chart."""
CHART_ABOVE, CHART_BELOW = 0.08, 0.13
"""Room above a chart's axes for its title, and below for its labels, legend and margin
(fractions of the page's height)."""


def write_pdf(data: ReportData, path: Path) -> Path:
    """Write the report's PDF to `path`: the summary page (the compliance chart on a
    page of its own when it does not fit below the table), the lines through a menu
    (when ring tests navigated one), then 1 page per department with calls."""
    with PdfPages(path, metadata={"Title": data.title, "Creator": "ringtest"}) as pdf:
        for page in _summary_pages(data):
            pdf.savefig(page)
        if not data.ivr_lines.empty:
            pdf.savefig(_ivr_lines_page(data))
        for department in data.departments_with_calls():
            pdf.savefig(_department_page(data.of_department(department)))
    return path


def _page(title: str, notes: list[str]) -> tuple[Figure, float]:
    """A page with its title and notes; returns it and the height (fraction) below them."""
    figure = Figure(figsize=A4_LANDSCAPE_INCHES, dpi=100)
    figure.text(LEFT, 0.955, textwrap.fill(title, 90), fontsize=15, weight="bold", va="top")
    lines = [line for note in notes if note for line in textwrap.wrap(note, 165)]
    figure.text(LEFT, 0.905, "\n".join(lines), fontsize=9, va="top", linespacing=1.4)
    return figure, 0.89 - 0.022 * len(lines)


def _summary_pages(data: ReportData) -> list[Figure]:
    """The summary page, and the compliance chart's own page when it does not fit on it."""
    figure, top = _page(
        data.title,
        [
            standards_text(data),
            callback_states_text(data),
            calls_text(data),
            coverage_note(data),
            ANNOUNCED_NAME_NOTE,
        ],
    )
    table = headline(data)
    bottom = _draw_table(figure, table, top=top, most_height=0.5) if len(table) else top
    rows = data.rows[data.rows["department"].isin(data.departments_with_calls())]
    if rows.empty:
        return [figure]
    height = BAR_ROW_INCHES * rows["department"].nunique() / A4_LANDSCAPE_INCHES[1]
    if bottom - CHART_ABOVE - height - CHART_BELOW >= 0:
        _compliance_chart(figure, data, rows, bottom - CHART_ABOVE, height)
        return [figure]
    chart_page, chart_top = _page(data.title, [])
    most = chart_top - CHART_ABOVE - CHART_BELOW
    _compliance_chart(chart_page, data, rows, chart_top - CHART_ABOVE, min(height, most))
    return [figure, chart_page]


def _ivr_lines_page(data: ReportData) -> Figure:
    """The lines answered by a menu that ring tests navigated to a person."""
    figure, top = _page(f"Lines through a menu: {data.title}", [ivr_lines_caption(data.when)])
    _draw_table(figure, ivr_lines_text(data.ivr_lines), top=top, most_height=0.6)
    return figure


def _compliance_chart(
    figure: Figure, data: ReportData, rows: pd.DataFrame, top: float, height: float
) -> None:
    ax = figure.add_axes((0.22, top - height, 0.6, height))
    charts.compliance_bars(ax, rows, data.standard_rings, data.target_percent, data.when)


def _department_page(data: ReportData) -> Figure:
    [department] = data.departments()
    figure, top = _page(
        data.title, [standards_text(data), callback_states_text(data), coverage_note(data)]
    )
    bottom = _draw_table(figure, sources_table(data), top=top, most_height=0.2)
    figure.text(
        LEFT,
        bottom - 0.015,
        f"{mystery_sentence(data)}\n{callbacks_text(data)}",
        fontsize=9,
        va="top",
        linespacing=1.4,
    )
    grid = figure.add_gridspec(
        2, 2, left=0.1, right=0.93, bottom=0.14, top=bottom - 0.13, hspace=0.75, wspace=0.22
    )
    live_rings = data.rings[data.rings["source"] == Source.LIVE]
    charts.rings_histogram(
        figure.add_subplot(grid[0, 0]), live_rings, data.standard_rings, data.when
    )
    charts.callback_ecdf(
        figure.add_subplot(grid[0, 1]),
        {department: data.callback_hours["hours"].tolist()},
        data.owed_by_department(),
        data.callback_days * data.working_day_hours,
        f"Standard: {data.callback_days} working day ({data.working_day_hours:g} h)",
        data.when,
    )
    weekly = data.weekly[data.weekly["source"] == Source.LIVE]
    charts.weekly_trend(
        figure.add_subplot(grid[1, :]), weekly, data.standard_rings, data.target_percent
    )
    return figure


def _draw_table(figure: Figure, table: pd.DataFrame, top: float, most_height: float) -> float:
    """Draw `table` across the page from `top` down; returns the table's bottom.

    Columns are as wide as their longest line; a table wider than the page is drawn
    in a smaller font rather than clipped.
    """
    headers = [textwrap.fill(str(column), HEADER_CHARACTERS) for column in table.columns]
    cells = [
        [textwrap.fill(str(value), CELL_CHARACTERS) for value in row]
        for row in table.to_numpy().tolist()
    ]
    widths = [
        max(
            len(line)
            for text in [header, *(row[column] for row in cells)]
            for line in text.splitlines() or [""]
        )
        + 2
        for column, header in enumerate(headers)
    ]
    page_points = WIDTH * A4_LANDSCAPE_INCHES[0] * POINTS_PER_INCH
    font = min(TABLE_FONT_POINTS, page_points / (sum(widths) * CHARACTER_WIDTH_EMS))
    font = max(font, SMALLEST_FONT_POINTS)
    line_height = 1.3 * font / POINTS_PER_INCH / A4_LANDSCAPE_INCHES[1]
    header_lines = max(header.count("\n") + 1 for header in headers)
    row_lines = max((text.count("\n") + 1 for row in cells for text in row), default=1)
    heights = [line_height * (header_lines + 0.5)] + [line_height * (row_lines + 0.5)] * len(cells)
    scale = min(1.0, most_height / sum(heights))
    heights = [height * scale for height in heights]
    height = sum(heights)
    ax = figure.add_axes((LEFT, top - height, WIDTH, height))
    ax.axis("off")
    drawn = ax.table(
        cellText=cells,
        colLabels=headers,
        cellLoc="center",
        loc="upper center",
        colWidths=[width / sum(widths) for width in widths],
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(font)
    for (row, _column), cell in drawn.get_celld().items():
        cell.set_height(heights[row] / height)
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e8e8e8")
    return top - height
