"""`ringtest lines`: the monitored lines, and the numbers the public dialled that none matched.

A council line missing from `[[lines]]` is otherwise invisible: its calls are
never stored. The listener keeps every call from the public that matched no
line (`Store.save_unmatched_calls`); this lists the last week's by dialled
number, beside the configured lines, so a missing line is found the first day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from ringtest.cli.common import local_zone, open_store, settings_of
from ringtest.config import Settings
from ringtest.store import Store

UNMATCHED_LOOKBACK = timedelta(days=7)
"""How far back `ringtest lines` counts calls that matched no line."""


def lines_overview(settings: Settings, store: Store, now: datetime) -> str:
    """The configured lines, then the numbers dialled in the week to `now` (UTC) that
    matched none, most called first, with their counts and last call in local time."""
    zone = local_zone(settings)
    if settings.lines:
        out = [f"{len(settings.lines)} monitored lines:"]
        width = max(len(line.target) for line in settings.lines)
        for line in settings.lines:
            kind = "number" if line.number else "extension" if line.extension else "queue"
            name = f" ({line.name})" if line.name else ""
            out.append(f"  {kind:<9}  {line.target:<{width}}  {line.department}{name}")
    else:
        out = ["no [[lines]] configured: add one per number, extension or queue to ringtest.toml"]
    since = now - UNMATCHED_LOOKBACK
    numbers = store.unmatched_numbers(since, now)
    out.append(
        f"calls from the public to no configured line since "
        f"{since.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key}):"
    )
    if not numbers:
        out.append("  none")
    for number in numbers:
        last = number.last_called_at.astimezone(zone)
        out.append(f"  {number.dialled}  {number.calls} calls, last {last:%Y-%m-%d %H:%M}")
    return "\n".join(out)


@click.command()
@click.pass_context
def lines(ctx: click.Context) -> None:
    """Show the monitored lines and the last week's dialled numbers that matched none."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        click.echo(lines_overview(settings, store, datetime.now(UTC)))
