"""The PDF report: a summary page, then one page per department (A4 landscape).

The summary page states the standards, shows the headline table for every
department and the compliance chart. Each department's page repeats its line
of the table with real calls beside mystery test calls, then its rings
distribution, callback times and 12-week trend. Written with matplotlib's
`PdfPages`, so the charts are the same drawings as the PNGs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from analysis import charts
from analysis.report_data import ReportData, headline, standards_text
from ringtest.core.observations import Source

A4_LANDSCAPE_INCHES = (11.69, 8.27)
SOURCE_COLUMNS = {
    "offered": "Calls",
    "within_standard_pct": "Within standard",
    "median_rings": "Median rings",
    "p90_rings": "Rings for 9 in 10",
    "service_level_pct": "Of answered, within standard",
    "abandoned": "Caller gave up",
    "voicemail": "Voicemail",
    "busy": "Busy",
}


def write_pdf(data: ReportData, path: Path) -> Path:
    """Write the report's PDF to `path`: 1 summary page + 1 page per department."""
    with PdfPages(path, metadata={"Title": data.title, "Creator": "ringtest"}) as pdf:
        pdf.savefig(_summary_page(data))
        for department in data.departments():
            pdf.savefig(_department_page(data.of_department(department)))
    return path


def _page(title: str, subtitle: str) -> Figure:
    figure = Figure(figsize=A4_LANDSCAPE_INCHES, dpi=100)
    figure.text(0.04, 0.955, title, fontsize=16, weight="bold", va="top")
    figure.text(0.04, 0.91, textwrap.fill(subtitle, 150), fontsize=9, va="top")
    return figure


def _summary_page(data: ReportData) -> Figure:
    figure = _page(data.title, standards_text(data))
    table = headline(data)
    _draw_table(figure, table, top=0.86, height=min(0.42, 0.06 * (len(table) + 1)))
    ax = figure.add_axes((0.2, 0.06, 0.6, 0.3))
    charts.compliance_bars(ax, data.rows, data.standard_rings, data.target_percent, data.when)
    return figure


def _department_page(data: ReportData) -> Figure:
    [department] = data.departments()
    figure = _page(data.title, standards_text(data))
    _draw_table(figure, _sources_table(data.rows), top=0.86, height=0.16)
    grid = figure.add_gridspec(2, 2, left=0.07, right=0.85, bottom=0.07, top=0.64,
                               hspace=0.5, wspace=0.25)  # fmt: skip
    live_rings = data.rings[data.rings["source"] == Source.LIVE]
    charts.rings_histogram(figure.add_subplot(grid[0, 0]), live_rings, data.standard_rings,
                           data.when)  # fmt: skip
    charts.callback_ecdf(
        figure.add_subplot(grid[0, 1]),
        {department: data.callback_hours["hours"].tolist()},
        data.callback_days * data.working_day_hours,
        f"Standard: {data.callback_days} working day ({data.working_day_hours:g} h)",
        data.when,
    )
    weekly = data.weekly[data.weekly["source"] == Source.LIVE]
    charts.weekly_trend(figure.add_subplot(grid[1, :]), weekly, data.standard_rings,
                        data.target_percent)  # fmt: skip
    return figure


def _sources_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Real calls beside mystery test calls for one department."""
    names = {Source.LIVE: "Real calls", Source.RING_TEST: "Mystery test calls"}
    table = []
    for source, label in names.items():
        found = rows[rows["source"] == source]
        row = found.iloc[0] if len(found) else None
        table.append({"": label, **{title: _cell(row, name) for name, title in
                                    SOURCE_COLUMNS.items()}})  # fmt: skip
    return pd.DataFrame(table)


def _cell(row: pd.Series | None, name: str) -> str:
    if row is None:
        return "-" if name != "offered" else "0"
    value = row[name]
    if pd.isna(value):
        return "-"
    return f"{value:.0f}%" if name.endswith("_pct") else f"{value:g}"


def _draw_table(figure: Figure, table: pd.DataFrame, top: float, height: float) -> None:
    ax = figure.add_axes((0.04, top - height, 0.92, height))
    ax.axis("off")
    headers = [textwrap.fill(str(column), 14) for column in table.columns]
    drawn = ax.table(cellText=table.to_numpy().tolist(), colLabels=headers, loc="upper center",
                     cellLoc="center", bbox=(0, 0, 1, 1))  # fmt: skip
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(8)
    for (row, _column), cell in drawn.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e8e8e8")
