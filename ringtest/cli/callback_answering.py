"""`ringtest callbacks-wait`: answer call-backs to the test accounts until SIGTERM."""

from __future__ import annotations

import click

from ringtest.cli.common import (
    instant_option,
    local_zone,
    open_store,
    parse_local_instant,
    settings_of,
)
from ringtest.services.assembly import DaemonPlan, run_daemon


@click.command("callbacks-wait")
@instant_option("--until", "Stop at this local date or time (default: run until SIGTERM).")
@click.pass_context
def callbacks_wait(ctx: click.Context, until: str | None) -> None:
    """Keep the SIP accounts registered and answer call-backs; close overdue callback tests."""
    settings = settings_of(ctx)
    stop_at = parse_local_instant(until, local_zone(settings), "--until")
    with open_store(settings, create=True) as store:
        click.echo(f"answering call-backs; storing in {store.url_for_display}", err=True)
        run_daemon(settings, store, DaemonPlan(answer_callbacks=True, callbacks_until=stop_at))
