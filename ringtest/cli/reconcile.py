"""`ringtest reconcile`: the calls the listener stored, held against the PBX's CDR or CEL."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from ringtest.cli.common import PBX_OPTION, local_zone, open_store, settings_of_pbx
from ringtest.cli.progress import bytes_progress
from ringtest.cli.report import chosen_period
from ringtest.sources.reconcile import (
    DifferingCall,
    HistoryKind,
    MissedCall,
    Reconciliation,
    fill_missed,
    reconcile,
)

HISTORY_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("reconcile")
@click.option("--cdr", "cdr_file", type=HISTORY_FILE, help="The PBX's CDR (Master.csv).")
@click.option("--cel", "cel_file", type=HISTORY_FILE, help="The PBX's CEL (cel_custom's CSV).")
@click.option("--from", "first_day", help="First local day, e.g. 2026-11-01 (default: the file's).")
@click.option("--to", "last_day", help="Last local day (included).")
@click.option("--fill", is_flag=True, help="Store the missed calls, marked as imported.")
@PBX_OPTION
@click.pass_context
def reconcile_command(ctx, cdr_file, cel_file, first_day, last_day, fill, pbx) -> None:
    """Compare the calls stored with the PBX's own CDR or CEL of the same period: list the
    calls the listener missed (and the coverage gap that explains each) and those stored
    with another outcome; --fill stores the missed ones. No caller number is printed."""
    if (cdr_file is None) == (cel_file is None):
        raise click.UsageError("give one history file: --cdr FILE or --cel FILE")
    kind, path = (HistoryKind.CDR, cdr_file) if cdr_file else (HistoryKind.CEL, cel_file)
    settings = settings_of_pbx(ctx, pbx)
    zone = local_zone(settings)
    period = chosen_period(None, first_day, last_day, zone, lambda: None)
    since, until = (period.since, period.until) if period else (None, None)
    with open_store(settings, create=fill) as store:
        with bytes_progress(f"reading {path.name}", path.stat().st_size) as fed:
            result = reconcile(path, kind, settings, store, since, until, on_bytes=fed)
        if fill:
            fill_missed(result, kind, settings, store)
    for missed in result.missed:
        click.echo(_missed_line(missed, zone))
    for differing in result.differing:
        click.echo(_differing_line(differing, kind, zone))
    click.echo(_summary(result, period.when if period else "the file's calls", fill))


def _missed_line(missed: MissedCall, zone: ZoneInfo) -> str:
    call, gap = missed.history, missed.gap
    why = (
        f"in the {gap.reason.value} gap from {gap.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"
        if gap
        else "no coverage gap recorded"
    )
    return (
        f"missed: {call.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S} line {call.line} "
        f"call {call.call_id} {call.outcome.value}: {why}"
    )


def _differing_line(differing: DifferingCall, kind: HistoryKind, zone: ZoneInfo) -> str:
    stored, history = differing.stored, differing.history
    return (
        f"differs: {stored.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S} line {stored.line} "
        f"call {stored.call_id}: stored {stored.outcome.value}, {kind.value} "
        f"{history.outcome.value}"
    )


def _summary(result: Reconciliation, when: str, fill: bool) -> str:
    missed = len(result.missed)
    text = (
        f"{result.source}, {when}: {result.history_calls} calls to monitored lines, "
        f"{result.stored_calls} stored; missed {missed} ({result.explained} in a recorded "
        f"coverage gap, {missed - result.explained} with no gap recorded); "
        f"{len(result.differing)} stored with another outcome"
    )
    if fill:
        text += (
            f"; filled {result.filled} missed calls (marked imported from {result.source}) "
            f"and completed {result.completed} incomplete ones"
        )
    return text
