"""`ringtest import-cdr | import-cel | import-queue-log`: the PBX's own history (CDR, the
channel event log, the queue_log), from its files or its database, loaded as historical
calls; `--since last` continues from where the last import of the same source stopped."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import click

from ringtest.cli.common import (
    PBX_OPTION,
    echo_bad_rows,
    local_zone,
    open_store,
    parse_local_instant,
    settings_of_pbx,
)
from ringtest.cli.progress import bytes_progress
from ringtest.config import Settings
from ringtest.core.errors import ReportError
from ringtest.sources.cdr_import import CdrImport
from ringtest.sources.cel_import import CelImport
from ringtest.sources.history_import import SINCE_LAST, HistorySource, import_history
from ringtest.sources.queue_log_import import import_queue_log

SINCE_HELP = (
    "Import only from this date or time (local, e.g. 2026-11-23 or 2026-11-23T09:30), or "
    "'last': from where the last import of this file or table stopped."
)
LOCAL_TIMES_HELP = (
    "The times are local (cdr.conf/cel_odbc.conf usegmtime = no, Asterisk's default); "
    "without it the uniqueids decide, else UTC."
)


def _since(text: str | None, settings: Settings) -> datetime | str | None:
    if text is None or text == SINCE_LAST:
        return text
    return parse_local_instant(text, local_zone(settings), "--since")


def _run_import(
    source: HistorySource, settings: Settings, since_text: str | None, local_times: bool
) -> CdrImport | CelImport:
    """`import_history` of `source` into the configured store, a progress bar over a file."""
    since = _since(since_text, settings)
    path = Path(source.location)
    on_file = not source.is_database and path.is_file()
    with (
        open_store(settings, create=True) as store,
        bytes_progress(f"importing {path.name}", path.stat().st_size)
        if on_file
        else nullcontext(lambda size: None) as fed,
    ):
        return import_history(
            source, settings, store, since=since, times_are_local=local_times, on_bytes=fed
        )


@click.command("import-cdr")
@click.argument("cdr_source")
@click.option(
    "--table",
    default="cdr",
    show_default=True,
    help="The CDR table when CDR_SOURCE is a database URL (FreePBX's asteriskcdrdb "
    "or cdr_pgsql's layout).",
)
@click.option("--local-times", is_flag=True, help=LOCAL_TIMES_HELP)
@click.option("--since", "since_text", metavar="last|DATE", default=None, help=SINCE_HELP)
@PBX_OPTION
@click.pass_context
def import_cdr_command(
    ctx, cdr_source: str, table: str, local_times: bool, since_text: str | None, pbx: str | None
) -> None:
    """Load an Asterisk CDR CSV (cdr_csv's Master.csv, or FreePBX's CDR Reports CSV), or
    the PBX's CDR table given as a database URL
    (mysql+pymysql://user:password@host:3306/asteriskcdrdb), as historical calls. Exits 1
    when nothing was imported and nothing was stored already."""
    settings = settings_of_pbx(ctx, pbx)
    source = HistorySource("CDR", cdr_source, table)
    result = _run_import(source, settings, since_text, local_times)
    assert isinstance(result, CdrImport)
    echo_bad_rows(source.shown, result.bad_rows, result.bad_row_count)
    click.echo(
        f"read {result.rows_read} rows from {source.shown}: imported {result.imported} calls; "
        f"{result.already_stored} already stored (kept as stored), "
        f"{result.not_monitored} not to a monitored line, {result.bad_row_count} bad rows skipped; "
        f"ring time not in the CDR: {result.ring_unknown} (the PBX answered first); "
        f"times read as {result.clock}"
    )
    if result.imported == 0 and result.already_stored == 0 and since_text is None:
        raise ReportError(f"nothing imported from {source.shown}: {_why_no_cdr_call(result)}")


def _why_no_cdr_call(result: CdrImport) -> str:
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


@click.command("import-cel")
@click.argument("cel_source")
@click.option(
    "--table",
    default="cel",
    show_default=True,
    help="The CEL table when CEL_SOURCE is a database URL (cel_odbc's, as FreePBX's "
    "asteriskcdrdb.cel, or cel_pgsql's).",
)
@click.option("--local-times", is_flag=True, help=LOCAL_TIMES_HELP)
@click.option("--since", "since_text", metavar="last|DATE", default=None, help=SINCE_HELP)
@PBX_OPTION
@click.pass_context
def import_cel_command(
    ctx, cel_source: str, table: str, local_times: bool, since_text: str | None, pbx: str | None
) -> None:
    """Load an Asterisk CEL CSV (cel_custom's Master.csv, the columns of
    cel_custom.conf.sample), or the PBX's CEL table given as a database URL
    (mysql+pymysql://user:password@host:3306/asteriskcdrdb), as historical calls, measured
    as the live listener measures them. Exits 1 when nothing was imported and nothing was
    stored already."""
    settings = settings_of_pbx(ctx, pbx)
    source = HistorySource("CEL", cel_source, table)
    result = _run_import(source, settings, since_text, local_times)
    assert isinstance(result, CelImport)
    echo_bad_rows(source.shown, result.bad_rows, result.bad_row_count)
    clock = f"; times read as {result.clock}" if result.clock else ""
    click.echo(
        f"read {result.rows_read} rows from {source.shown}: imported {result.imported} calls; "
        f"{result.already_stored} already stored (kept as stored), "
        f"{result.not_monitored} not to a monitored line, "
        f"{result.in_progress} still in progress at the end of the file (import again later), "
        f"{result.anomalies} events of calls begun before the file, "
        f"{result.bad_row_count} bad rows skipped{clock}"
    )
    if result.calls_found and not result.app_starts:
        click.echo(
            f"ringtest: {source.shown} has no APP_START rows: queue entries, voicemail and "
            "IVRs went unseen; set events and apps in cel.conf as docker/asterisk/cel.conf does",
            err=True,
        )
    if result.imported == 0 and result.already_stored == 0 and since_text is None:
        raise ReportError(f"nothing imported from {source.shown}: {_why_no_cel_call(result)}")


def _why_no_cel_call(result: CelImport) -> str:
    """Why an import stored no call, and the fix."""
    if result.rows_read == 0:
        return "the file has no rows: give cel_custom's Master.csv"
    if result.bad_row_count == result.rows_read:
        return (
            f"all {result.rows_read} rows are bad (see above): give cel_custom's Master.csv "
            "with the columns of cel_custom.conf.sample"
        )
    if result.in_progress and not result.calls_found:
        return "its calls are still in progress: import again once they have ended"
    return (
        "no call is to a monitored line: check [[lines]] (numbers, extensions, queues) in "
        "ringtest.toml against the file's exten column"
    )


@click.command("import-queue-log")
@click.argument("queue_log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PBX_OPTION
@click.pass_context
def import_queue_log_command(ctx, queue_log: Path, pbx: str | None) -> None:
    """Load Asterisk's queue_log as the answered and abandoned calls of monitored queues,
    each with its wait; a call already stored keeps what it has and gains only a wait it
    lacks. Exits 1 when the file holds no call of a monitored queue."""
    settings = settings_of_pbx(ctx, pbx)
    size = queue_log.stat().st_size
    with (
        open_store(settings, create=True) as store,
        bytes_progress(f"importing {queue_log.name}", size) as fed,
    ):
        result = import_queue_log(queue_log, settings, store, on_bytes=fed)
    echo_bad_rows(queue_log, result.bad_rows, result.bad_row_count, "lines")
    click.echo(
        f"read {result.rows_read} lines from {queue_log}: imported {result.imported} queue "
        f"calls; {result.already_stored} already stored (kept, {result.waits_added} given "
        f"the wait they lacked), {result.left_unanswered} left the queue unanswered (their "
        f"outcome is in the CDR or CEL), {result.not_monitored} of queues not monitored, "
        f"{result.in_progress} still in progress, {result.bad_row_count} bad lines skipped"
    )
    if result.calls_found == 0:
        raise ReportError(
            f"nothing imported from {queue_log}: no answered or abandoned call of a monitored "
            "queue: check [[lines]] queue names in ringtest.toml against the file's queues"
        )
