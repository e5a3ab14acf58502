"""`ringtest gaps`: the intervals in which the listener did not see its PBX."""

from __future__ import annotations

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

GAP_COLUMNS = ("pbx", "started_at", "ended_at", "reason")


@click.command()
@instant_option("--since", "Gaps that end after this local date/time.")
@instant_option("--until", "Gaps that begin before this local date/time.")
@format_option()
@click.pass_context
def gaps(ctx, since, until, output_format) -> None:
    """List the intervals in which calls may have gone unseen (listener down, AMI link
    lost, PBX restarted), oldest first."""
    settings = settings_of(ctx)
    zone = local_zone(settings)
    first = parse_local_instant(since, zone, "--since")
    last = parse_local_instant(until, zone, "--until")
    with open_store(settings) as store:
        records = store.gaps(since=first, until=last)
    click.echo(render(records, output_format, GAP_COLUMNS, zone))
