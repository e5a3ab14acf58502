"""`ringtest import-cel | import-queue-log`: the PBX's channel event log (CEL) loaded as
historical calls, and its queue_log as the waits of queue calls."""

from __future__ import annotations

from pathlib import Path

import click

from ringtest.cli.common import PBX_OPTION, echo_bad_rows, open_store, settings_of_pbx
from ringtest.cli.progress import bytes_progress
from ringtest.core.errors import ReportError
from ringtest.sources.cel_import import CelImport, import_cel
from ringtest.sources.queue_log_import import import_queue_log


@click.command("import-cel")
@click.argument("cel_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PBX_OPTION
@click.pass_context
def import_cel_command(ctx, cel_file: Path, pbx: str | None) -> None:
    """Load an Asterisk CEL CSV (cel_custom's Master.csv, the columns of
    cel_custom.conf.sample) as historical calls, measured as the live listener measures
    them. Exits 1 when nothing was imported and nothing was stored already."""
    settings = settings_of_pbx(ctx, pbx)
    size = cel_file.stat().st_size
    with (
        open_store(settings, create=True) as store,
        bytes_progress(f"importing {cel_file.name}", size) as fed,
    ):
        result = import_cel(cel_file, settings, store, on_bytes=fed)
    echo_bad_rows(cel_file, result.bad_rows, result.bad_row_count)
    click.echo(
        f"read {result.rows_read} rows from {cel_file}: imported {result.imported} calls; "
        f"{result.already_stored} already stored (kept as stored), "
        f"{result.not_monitored} not to a monitored line, "
        f"{result.in_progress} still in progress at the end of the file (import again later), "
        f"{result.anomalies} events of calls begun before the file, "
        f"{result.bad_row_count} bad rows skipped"
    )
    if result.calls_found and not result.app_starts:
        click.echo(
            f"ringtest: {cel_file} has no APP_START rows: queue entries, voicemail and IVRs "
            "went unseen; set events and apps in cel.conf as docker/asterisk/cel.conf does",
            err=True,
        )
    if result.imported == 0 and result.already_stored == 0:
        raise ReportError(f"nothing imported from {cel_file}: {_why_nothing(result)}")


def _why_nothing(result: CelImport) -> str:
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
