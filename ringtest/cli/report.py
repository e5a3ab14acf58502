"""`ringtest report | publish`: the managers' report and the public page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from analysis.public_page import last_month_period, write_public_page
from analysis.report import (
    ReportPeriod,
    days_period,
    default_output_dir,
    last_week_period,
    send_report,
    week_period,
    write_report,
)
from analysis.report_data import gather_report
from ringtest.cli.common import (
    configured_department,
    local_zone,
    open_store,
    settings_of,
)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date: write it like 2026-11-23", param_hint=option
        ) from None


def period_options(default: str):
    """``--week`` or ``--from``/``--to`` (into `week`, `first_day`, `last_day`): the period
    a command covers, `default` when none is given."""

    def add(command):
        for option in reversed(
            (
                click.option("--week", help=f"ISO week, e.g. 2026-W47 (default: {default})."),
                click.option("--from", "first_day", help="First local day, e.g. 2026-11-01."),
                click.option("--to", "last_day", help="Last local day (included)."),
            )
        ):
            command = option(command)
        return command

    return add


def chosen_period(
    week: str | None,
    first_day: str | None,
    last_day: str | None,
    zone: ZoneInfo,
    default: Callable[[], ReportPeriod],
) -> ReportPeriod:
    """The period `period_options` gave: the ISO `week`, the local days `first_day` to
    `last_day`, else `default()`."""
    first, last = _day(first_day, "--from"), _day(last_day, "--to")
    if week and (first or last):
        raise click.UsageError("give either --week or --from/--to, not both")
    if (first is None) != (last is None):
        raise click.UsageError("give both --from and --to")
    if week:
        return week_period(week, zone)
    if first and last:
        return days_period(first, last, zone)
    return default()


@click.command()
@period_options(default="last whole week")
@click.option("--department", help="Only this department.")
@click.option(
    "--pbx",
    help="Only this [[pbx]]: its calls and callbacks, and the ring tests of its departments.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: report.output_dir).",
)
@click.option("--email", is_flag=True, help="Also mail it to report.recipients.")
@click.pass_context
def report(ctx, week, first_day, last_day, department, pbx, out_dir, email) -> None:
    """Write the compliance report: PNG charts, a PDF, the CSV of the rows, an HTML summary."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    department = configured_department(settings, department, "--department")
    if pbx is not None:
        settings.pbx_view(pbx)
    now = datetime.now(UTC)
    period = chosen_period(week, first_day, last_day, zone, lambda: last_week_period(now, zone))
    with open_store(settings) as store:
        data = gather_report(
            settings,
            store,
            period.since,
            period.until,
            period.title if pbx is None else f"{pbx}: {period.title}",
            period.when,
            department,
            now=now,
            pbx=pbx,
        )
    folder = period.when.replace(" ", "-") + ("" if pbx is None else f"-{pbx}")
    target = out_dir or default_output_dir(settings) / folder
    files = write_report(data, target)
    click.echo(
        f"wrote {files.pdf}, {files.csv}, {files.html} and "
        f"{len(files.charts)} charts in {files.directory}"
    )
    if email:
        send_report(settings, data, files)
        click.echo(f"mailed the report to {', '.join(settings.report.recipients)}")


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the public page (index.html).",
)
@period_options(default="last whole month")
@click.pass_context
def publish(ctx, out_dir: Path, week, first_day, last_day) -> None:
    """Write the public page: our standards and one period's results (last month unless
    --week or --from/--to), no personal data."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    now = datetime.now(UTC)
    period = chosen_period(week, first_day, last_day, zone, lambda: last_month_period(now, zone))
    with open_store(settings) as store:
        page = write_public_page(settings, store, out_dir, now, period)
    click.echo(f"wrote {page} for {period.when}")
