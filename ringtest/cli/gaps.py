"""`ringtest gaps`: the intervals in which the listener did not see its PBX, and what the
PBX's CEL or CDR filled of each (`[history] cel_file`, `cdr_file`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click

from ringtest.cli.common import (
    instant_option,
    local_zone,
    open_store,
    parse_local_instant,
    settings_of,
)
from ringtest.cli.output import format_option
from ringtest.outputs.export import render

GAP_COLUMNS = (
    "pbx",
    "started_at",
    "ended_at",
    "reason",
    "filled_from",
    "calls_filled",
    "calls_completed",
    "fill_over",
)


@dataclass(frozen=True)
class ListedGap:
    """A gap as listed. filled_from: the CEL or CDR file that filled it, None when not filled;
    calls_filled: calls that started in it imported from that file; calls_completed:
    incomplete calls it completed; fill_over: whether its passes are over (False: more
    are due, or the daemon stopped before them and resumes them at its next start; all
    three None when not filled)."""

    pbx: str
    started_at: datetime
    ended_at: datetime
    reason: str
    filled_from: str | None
    calls_filled: int | None
    calls_completed: int | None
    fill_over: bool | None


@click.command()
@instant_option("--since", "Gaps that end after this local date/time.")
@instant_option("--until", "Gaps that begin before this local date/time.")
@format_option()
@click.pass_context
def gaps(ctx, since, until, output_format) -> None:
    """List the intervals in which calls may have gone unseen (listener down, AMI link
    lost, PBX restarted), oldest first, and how many calls the PBX's CEL or CDR filled in."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    first = parse_local_instant(since, zone, "--since")
    last = parse_local_instant(until, zone, "--until")
    with open_store(settings) as store:
        fills = {(fill.pbx, fill.gap_started_at): fill for fill in store.gap_fills()}
        records = [
            ListedGap(
                gap.pbx,
                gap.started_at,
                gap.ended_at,
                gap.reason.value,
                fill.source if fill else None,
                fill.calls_imported if fill else None,
                fill.calls_upgraded if fill else None,
                fill.passes_over if fill else None,
            )
            for gap in store.gaps(since=first, until=last)
            for fill in [fills.get((gap.pbx, gap.started_at))]
        ]
    click.echo(render(records, output_format, GAP_COLUMNS, zone))
