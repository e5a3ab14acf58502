"""`ringtest listen | replay | calls | callbacks`: live calls measured from the PBX's AMI."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

import click

from ringtest.cli.common import (
    amis_listened_to,
    configured_department,
    instant_option,
    local_zone,
    open_store,
    parse_local_instant,
    settings_of,
)
from ringtest.cli.output import format_option
from ringtest.cli.progress import bytes_progress
from ringtest.config import Settings
from ringtest.core.records import CallbackStatus, CallRecord
from ringtest.outputs.export import render, write_rows
from ringtest.store.call_listing import call_rows, count_calls, newest_calls

TABLE_LIMIT = 50
"""Calls the table shows by default: the newest, so it prints at once on any store."""
CALL_FIELDS = tuple(field.name for field in fields(CallRecord))

CALL_COLUMNS = (
    "started_at",
    "department",
    "line",
    "caller",
    "outcome",
    "answered_by",
    "ring_seconds",
    "rings",
    "within_standard",
)
TEST_CALL_COLUMN = "is_test_call"
"""The table's last column when mystery calls are listed too."""
CALLBACK_COLUMNS = (
    "missed_at",
    "department",
    "caller",
    "status",
    "deadline_at",
    "closed_at",
    "connected",
    "working_seconds",
)


def warn_without_lines(settings: Settings) -> None:
    """One line on stderr when no `[[lines]]` is configured: no call would be stored."""
    if not settings.lines:
        click.echo(
            "ringtest: warning: no [[lines]] configured, so no call will be stored: "
            "add a [[lines]] entry per monitored number, extension or queue to ringtest.toml",
            err=True,
        )


@click.command()
@click.option(
    "--record",
    "record_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the raw AMI byte stream, with receive times, to this file.",
)
@click.pass_context
def listen(ctx: click.Context, record_to: Path | None) -> None:
    """Listen to the PBX's AMI and store every call to a monitored line (until SIGTERM)."""
    from ringtest.services.assembly import DaemonPlan, run_daemon  # the daemon: only here

    settings = settings_of(ctx)
    warn_without_lines(settings)
    with open_store(settings, create=True, upgrade=True) as store:
        click.echo(
            f"listening to {amis_listened_to(settings)}; storing in {store.url_for_display}",
            err=True,
        )
        plan = DaemonPlan(listen=True, record_to=record_to, retention=True)
        run_daemon(settings, store, plan, load_settings_again=lambda: settings_of(ctx))


@click.command()
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def replay(ctx: click.Context, recording: Path) -> None:
    """Feed a recorded AMI stream (ringtest's or raw bytes) through the tracker into the store."""
    from ringtest.sources.live_calls import replay as replay_recording  # the tracker: only here

    settings = settings_of(ctx)
    warn_without_lines(settings)
    size = recording.stat().st_size if recording.is_file() else 0
    with (
        open_store(settings, create=True) as store,
        bytes_progress(f"replaying {recording.name}", size) as fed,
    ):
        summary = replay_recording(settings, recording, store, on_bytes=fed)
    click.echo(
        f"replayed {summary.messages} AMI messages from {recording}: "
        f"stored {summary.calls} calls and {summary.obligations} callback changes"
        + (f"; {summary.anomalies} events did not fit a call" if summary.anomalies else "")
    )


@click.command()
@instant_option("--since", "Calls that started at or after this local date/time.")
@instant_option("--until", "Calls that started before this local date/time.")
@click.option("--line", help="Only this line (number, extension or queue).")
@click.option("--department", help="Only this department.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=TABLE_LIMIT,
    show_default=True,
    help="The table shows the newest N calls (csv and json export every call).",
)
@click.option(
    "--include-test-calls",
    is_flag=True,
    help="Also list mystery calls (ring tests), marked in an is_test_call column.",
)
@format_option()
@click.pass_context
def calls(ctx, since, until, line, department, limit, include_test_calls, output_format) -> None:
    """Export measured calls, with the field names of the export schema; mystery calls
    (ring tests) are left out unless --include-test-calls."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    filters = {
        "since": parse_local_instant(since, zone, "--since"),
        "until": parse_local_instant(until, zone, "--until"),
        "line": line,
        "department": configured_department(settings, department, "--department"),
        "is_test_call": None if include_test_calls else False,
    }
    with open_store(settings) as store:
        if output_format != "table":
            write_rows(call_rows(store, **filters), CALL_FIELDS, output_format, sys.stdout)
            return
        shown = newest_calls(store, limit, **filters)
        total = count_calls(store, **filters) if len(shown) == limit else len(shown)
    columns = CALL_COLUMNS + (TEST_CALL_COLUMN,) if include_test_calls else CALL_COLUMNS
    click.echo(render(shown, output_format, columns, zone))
    if total > len(shown):
        click.echo(
            f"the newest {len(shown):,} of {total:,} calls; {total - len(shown):,} more not "
            "shown: raise --limit, narrow with --since/--until, or export with --format csv"
        )


@click.command()
@click.option("--open", "only", flag_value=CallbackStatus.OPEN, help="Only callbacks still open.")
@click.option("--overdue", "only", flag_value=CallbackStatus.OVERDUE, help="Only overdue ones.")
@format_option()
@click.pass_context
def callbacks(ctx, only, output_format) -> None:
    """Export callback obligations: who is owed a call back, and when it was returned."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        records = store.obligations(CallbackStatus(only) if only else None)
    click.echo(render(records, output_format, CALLBACK_COLUMNS, local_zone(settings)))
