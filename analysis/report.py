"""The report managers receive: PNG charts, one PDF, the CSV of the rows, an HTML summary.

`write_report` makes the files from one `ReportData`; `send_report` mails the
PDF with the summary inline; `send_weekly_report` is what the campaign daemon
calls on the configured schedule (`report.schedule_day` at
`report.schedule_time`, default Monday 08:00 local time): it reports the last
whole ISO week before `now` and returns the PDF's path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import platformdirs

from analysis.periods import iso_week_bounds, local_midnight, previous_week
from analysis.report_data import ReportData, gather_report
from analysis.summary_html import summary_html, summary_text
from ringtest.config import Settings
from ringtest.core.errors import ReportError
from ringtest.core.observations import Source
from ringtest.core.private_files import make_private, make_private_directory
from ringtest.outputs.mail import build_message, send_mail
from ringtest.store import Store

logger = logging.getLogger(__name__)

PDF_NAME = "report.pdf"
CSV_NAME = "compliance.csv"
WEEKLY_CSV_NAME = "compliance-weekly.csv"
HTML_NAME = "summary.html"
CHART_ALT_TEXT = {
    "compliance.png": "Calls answered within the standard, by department",
    "rings.png": "Rings callers heard before a person answered",
    "callbacks.png": "How fast missed calls were returned",
    "trend.png": "Calls answered within the standard, week by week",
}


@dataclass(frozen=True)
class ReportPeriod:
    """What a report covers: [since, until) in UTC, a title and a short `when` for charts."""

    since: datetime
    until: datetime
    title: str
    when: str


@dataclass(frozen=True)
class ReportFiles:
    """Where a written report's files are."""

    directory: Path
    pdf: Path
    csv: Path
    weekly_csv: Path
    html: Path
    charts: dict[str, Path] = field(default_factory=dict)


def week_period(week: str, zone: ZoneInfo) -> ReportPeriod:
    """The ISO week `2026-W47`, Monday to Sunday local time."""
    since, until = iso_week_bounds(week, zone)
    last_day = (until - timedelta(days=1)).astimezone(zone).date()
    first_day = since.astimezone(zone).date()
    title = f"Telephone standards, week {week} ({first_day:%d %b} to {last_day:%d %b %Y})"
    return ReportPeriod(since, until, title, f"week {week}")


def days_period(first_day: date, last_day: date, zone: ZoneInfo) -> ReportPeriod:
    """The local days `first_day` to `last_day`, both included."""
    if last_day < first_day:
        raise ReportError(
            f"--to {last_day} is before --from {first_day}: give the first day, then the last"
        )
    since = local_midnight(first_day, zone)
    until = local_midnight(last_day + timedelta(days=1), zone)
    when = f"{first_day:%d %b %Y} to {last_day:%d %b %Y}"
    return ReportPeriod(since, until, f"Telephone standards, {when}", when)


def last_week_period(now: datetime, zone: ZoneInfo) -> ReportPeriod:
    """The last whole ISO week before `now`."""
    since, _ = previous_week(now, zone)
    year, week, _ = since.astimezone(zone).date().isocalendar()
    return week_period(f"{year}-W{week:02d}", zone)


def default_output_dir(settings: Settings) -> Path:
    """`report.output_dir`, else `reports/` in the platform data directory."""
    configured = settings.report.output_dir
    return (
        configured
        if configured is not None
        else Path(platformdirs.user_data_dir("ringtest")) / "reports"
    )


def write_report(data: ReportData, out_dir: Path) -> ReportFiles:
    """Write the charts (PNG), PDF, CSVs and HTML summary of `data` into `out_dir`, each
    file 0600 like every file ringtest writes about calls (a new `out_dir` 0700)."""
    from analysis.pdf import write_pdf  # matplotlib: imported only by what draws

    try:
        make_private_directory(out_dir)
        pngs = _write_charts(data, out_dir)
        files = ReportFiles(
            directory=out_dir,
            pdf=write_pdf(data, out_dir / PDF_NAME),
            csv=out_dir / CSV_NAME,
            weekly_csv=out_dir / WEEKLY_CSV_NAME,
            html=out_dir / HTML_NAME,
            charts=pngs,
        )
        data.rows.to_csv(files.csv, index=False)
        data.weekly.to_csv(files.weekly_csv, index=False)
        images = {CHART_ALT_TEXT[name]: name for name in pngs}
        files.html.write_text(summary_html(data, images), encoding="utf-8")
        make_private(files.pdf, files.csv, files.weekly_csv, files.html, *pngs.values())
    except OSError as error:
        raise ReportError(
            f"cannot write the report to '{out_dir}' ({error.strerror or error}): "
            "choose another --out or report.output_dir"
        ) from None
    logger.info("wrote the report for %s to %s", data.when, out_dir)
    return files


def send_report(settings: Settings, data: ReportData, files: ReportFiles) -> None:
    """Mail the report to `report.recipients`: summary inline (HTML + text), PDF attached."""
    inline = {name: path.read_bytes() for name, path in files.charts.items()}
    images = {CHART_ALT_TEXT[name]: f"cid:{name}" for name in inline}
    message = build_message(
        settings.report,
        data.title,
        summary_text(data),
        summary_html(data, images),
        inline,
        [files.pdf],
    )
    send_mail(settings.report, message)


def send_weekly_report(settings: Settings, store: Store, now: datetime) -> Path:
    """Report the last whole ISO week before `now`, mail it, and return the PDF's path.

    The campaign daemon calls this at `report.schedule_day` `report.schedule_time`
    (local time). Files go to `<output dir>/<week>/`.
    """
    zone = ZoneInfo(settings.calendar.timezone)
    period = last_week_period(now, zone)
    data = gather_report(
        settings, store, period.since, period.until, period.title, period.when, now=now
    )
    files = write_report(data, default_output_dir(settings) / period.when.replace(" ", "-"))
    send_report(settings, data, files)
    return files.pdf


def _write_charts(data: ReportData, out_dir: Path) -> dict[str, Path]:
    from analysis import charts  # matplotlib: imported only by what draws

    drawings = {
        "compliance.png": lambda ax: charts.compliance_bars(
            ax,
            data.rows[data.rows["department"].isin(data.departments_with_calls())],
            data.standard_rings,
            data.target_percent,
            data.when,
        ),
        "rings.png": lambda ax: charts.rings_histogram(
            ax, data.rings[data.rings["source"] == Source.LIVE], data.standard_rings, data.when
        ),
        "callbacks.png": lambda ax: charts.callback_ecdf(
            ax,
            {
                department: hours["hours"].tolist()
                for department, hours in data.callback_hours.groupby("department")
            },
            data.owed_by_department(),
            data.callback_days * data.working_day_hours,
            f"Standard: {data.callback_days} working day ({data.working_day_hours:g} h)",
            data.when,
        ),
        "trend.png": lambda ax: charts.weekly_trend(
            ax,
            data.weekly[data.weekly["source"] == Source.LIVE],
            data.standard_rings,
            data.target_percent,
        ),
    }
    written = {}
    for name, draw in drawings.items():
        figure, ax = charts.new_figure()
        draw(ax)
        figure.savefig(out_dir / name)
        written[name] = out_dir / name
    return written
