"""`ringtest watch`: the live view on a terminal, a client of the running daemon's server.

It reads the same pushed snapshots as the web page (`ringtest.web.event_client`)
and draws each in place (`ringtest.web.terminal`); it holds no rules and no AMI
connection of its own.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.live import Live

from ringtest.cli.common import local_zone, settings_of
from ringtest.config.web import WebSettings
from ringtest.core.errors import ConfigError
from ringtest.web.event_client import (
    LinkLost,
    LiveViewUnreachable,
    Snapshot,
    StreamLink,
    follow,
    read_snapshots,
)
from ringtest.web.terminal import DEFAULT_TOP, LinkStatus, frame

ANY_ADDRESS_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}
"""The loopback address to reach a server bound to every address."""


def default_url(web: WebSettings) -> str:
    """The live view's address from `[web]`: its bind (loopback for any-address) and port."""
    if web.port == 0:
        raise ConfigError(
            "web.port is 0 (any free port): pass --url with the address the daemon "
            "logged ('live view on http://...')"
        )
    host = ANY_ADDRESS_LOOPBACK.get(web.bind, web.bind)
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{web.port}/"


@click.command()
@click.option(
    "--url",
    help="The live view's address (default: from web.bind and web.port, "
    "http://127.0.0.1:8470/); the token is web.token (env RINGTEST_WEB__TOKEN).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=DEFAULT_TOP,
    show_default=True,
    help="Callers to call back shown, nearest deadline first.",
)
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@click.pass_context
def watch(ctx: click.Context, url: str | None, top: int, once: bool) -> None:
    """Watch the live view of a running `ringtest run` or `ringtest listen` on this
    terminal: calls ringing, today's figures, callers to call back, listener health."""
    settings = settings_of(ctx)
    link = StreamLink(url or default_url(settings.web), settings.web.token_value())
    zone = local_zone(settings)
    console = Console()
    if once:
        with contextlib.closing(read_snapshots(link)) as snapshots:
            snapshot = next(snapshots, None)
        if snapshot is None:
            raise LiveViewUnreachable(link.url, "the server ended the stream")
        console.print(frame(snapshot.data, LinkStatus(link.url), zone, top))
        return
    with contextlib.suppress(KeyboardInterrupt):
        _show_live(follow(link), link.url, console, zone, top)


def _show_live(
    updates: Iterator[Snapshot | LinkLost], url: str, console: Console, zone: ZoneInfo, top: int
) -> None:
    """Redraw in place on each snapshot, and each second while the link is lost."""
    first = next(updates)
    assert isinstance(first, Snapshot)  # `follow` raises before a first snapshot
    latest = first.data
    shown = frame(latest, LinkStatus(url), zone, top)
    with Live(shown, console=console, auto_refresh=False) as live:
        for update in updates:
            if isinstance(update, Snapshot):
                latest, status = update.data, LinkStatus(url)
            else:
                lost_for = time.monotonic() - update.lost_at_seconds
                status = LinkStatus(url, update.reason, lost_for)
            live.update(frame(latest, status, zone, top), refresh=True)
