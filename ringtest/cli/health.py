"""`ringtest health`: exit 0 while the running daemon's listener is connected to the PBX.

A container's or a monitor's health check: it asks the live view's ``/api/health``
(`ringtest.web.event_client.read_health`) of the `ringtest run` or `ringtest listen`
the settings' `[web]` names, with its token, and prints one line.
"""

from __future__ import annotations

import click

from ringtest.cli.common import settings_of
from ringtest.cli.watch import default_url
from ringtest.core.errors import PbxUnreachable
from ringtest.web.event_client import StreamLink, read_health


@click.command()
@click.option(
    "--url",
    help="The live view's address (default: from web.bind and web.port, "
    "http://127.0.0.1:8470/); the token is web.token or web.token_file.",
)
@click.pass_context
def health(ctx: click.Context, url: str | None) -> None:
    """Exit 0 when the running daemon's listener is connected to the PBX, 1 when it is
    not or the live view does not answer; one line says which."""
    settings = settings_of(ctx)
    link = StreamLink(url or default_url(settings.web), settings.web.token_value())
    listener = read_health(link)
    age = listener["last_event_age_seconds"]
    last_event = "no event yet" if age is None else f"last event {float(age):.0f} s ago"
    if not listener["connected"]:
        raise PbxUnreachable(
            f"the listener behind {link.url} is not connected to the PBX ({last_event}): "
            "its log says why (AMI address, secret, the PBX itself)"
        )
    click.echo(f"connected to the PBX since {listener['connected_since']}, {last_event}")
