"""`ringtest callbacks-wait`: answer call-backs to the test accounts until SIGTERM."""

from __future__ import annotations

import signal
import threading

import click

from ringtest.callbacks_run import wait_for_callbacks
from ringtest.cli.common import (
    instant_option,
    local_zone,
    open_store,
    parse_local_instant,
    settings_of,
)


@click.command("callbacks-wait")
@instant_option("--until", "Stop at this local date or time (default: run until SIGTERM).")
@click.pass_context
def callbacks_wait(ctx: click.Context, until: str | None) -> None:
    """Keep the SIP accounts registered and answer call-backs; close overdue callback tests."""
    settings = settings_of(ctx)
    stop_at = parse_local_instant(until, local_zone(settings), "--until")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with open_store(settings) as store:
        click.echo(f"answering call-backs; storing in {store.url_for_display}", err=True)
        wait_for_callbacks(settings, store, stop, until=stop_at)
