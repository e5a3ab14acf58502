"""`ringtest report | publish | import-cdr`: the managers' report, the public page, CDR history."""

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
    PBX_OPTION,
    configured_department,
    echo_bad_rows,
    local_zone,
    open_store,
    settings_of,
    settings_of_pbx,
)
from ringtest.cli.progress import bytes_progress
from ringtest.core.errors import ReportError
from ringtest.sources.cdr_database import (
    DEFAULT_TABLE,
    import_cdr_database,
    is_database_url,
    url_for_display,
)
from ringtest.sources.cdr_import import CdrImport, import_cdr


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
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: report.output_dir).",
)
@click.option("--email", is_flag=True, help="Also mail it to report.recipients.")
@click.pass_context
def report(ctx, week, first_day, last_day, department, out_dir, email) -> None:
    """Write the compliance report: PNG charts, a PDF, the CSV of the rows, an HTML summary."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    department = configured_department(settings, department, "--department")
    now = datetime.now(UTC)
    period = chosen_period(week, first_day, last_day, zone, lambda: last_week_period(now, zone))
    with open_store(settings) as store:
        data = gather_report(
            settings,
            store,
            period.since,
            period.until,
            period.title,
            period.when,
            department,
            now=now,
        )
    target = out_dir or default_output_dir(settings) / period.when.replace(" ", "-")
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


@click.command("import-cdr")
@click.argument("cdr_source")
@click.option(
    "--table",
    default=DEFAULT_TABLE,
    show_default=True,
    help="The CDR table when CDR_SOURCE is a database URL (FreePBX's asteriskcdrdb layout).",
)
@click.option(
    "--local-times",
    is_flag=True,
    help="The file's times are local (cdr.conf usegmtime = no, Asterisk's default); "
    "without it the file's uniqueids decide, else UTC.",
)
@PBX_OPTION
@click.pass_context
def import_cdr_command(
    ctx, cdr_source: str, table: str, local_times: bool, pbx: str | None
) -> None:
    """Load an Asterisk CDR CSV (cdr_csv's Master.csv, or FreePBX's CDR Reports CSV), or
    FreePBX's CDR table given as a database URL
    (mysql+pymysql://user:password@host:3306/asteriskcdrdb), as historical calls. Exits 1
    when nothing was imported and nothing was stored already."""
    settings = settings_of_pbx(ctx, pbx)
    if is_database_url(cdr_source):
        cdr_file = f"{url_for_display(cdr_source)} table {table}"
        with open_store(settings, create=True) as store:
            result = import_cdr_database(
                cdr_source, settings, store, table=table, times_are_local=local_times
            )
    else:
        path = Path(cdr_source)
        if not path.is_file():
            raise ReportError(
                f"CDR file '{path}' does not exist: give cdr_csv's Master.csv, FreePBX's "
                "CDR Reports CSV or a database URL"
            )
        cdr_file = str(path)
        with (
            open_store(settings, create=True) as store,
            bytes_progress(f"importing {path.name}", path.stat().st_size) as fed,
        ):
            result = import_cdr(path, settings, store, times_are_local=local_times, on_bytes=fed)
    echo_bad_rows(cdr_file, result.bad_rows, result.bad_row_count)
    click.echo(
        f"read {result.rows_read} rows from {cdr_file}: imported {result.imported} calls; "
        f"{result.already_stored} already stored (kept as stored), "
        f"{result.not_monitored} not to a monitored line, {result.bad_row_count} bad rows skipped; "
        f"ring time not in the CDR: {result.ring_unknown} (the PBX answered first); "
        f"times read as {result.clock}"
    )
    if result.imported == 0 and result.already_stored == 0:
        raise ReportError(f"nothing imported from {cdr_file}: {_why_nothing(result)}")


def _why_nothing(result: CdrImport) -> str:
    """Why an import stored no call, and the fix."""
    if result.rows_read == 0:
        return "the file has no rows: give cdr_csv's Master.csv or FreePBX's CDR Reports CSV"
    if result.bad_row_count == result.rows_read:
        return (
            f"all {result.rows_read} rows are bad (see above): give cdr_csv's Master.csv or "
            "FreePBX's CDR Reports CSV"
        )
    return (
        "no call is to a monitored line: check [[lines]] (numbers, extensions, queues) in "
        "ringtest.toml against the file's dst column"
    )
