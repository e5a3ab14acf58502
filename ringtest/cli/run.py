"""`ringtest run`: the whole daemon in one process (listener, campaigns, call-backs)."""

from __future__ import annotations

from pathlib import Path

import click

from ringtest.cli.campaign import campaigns_started
from ringtest.cli.common import amis_listened_to, open_store, settings_of
from ringtest.services.assembly import DaemonPlan, campaigns_to_run, receives_callbacks, run_daemon


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--record",
    "record_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the raw AMI byte stream, with receive times, to this file.",
)
@click.pass_context
def run(ctx: click.Context, files: tuple[Path, ...], record_to: Path | None) -> None:
    """Listen to the PBX, run campaigns and answer call-backs in one process, until SIGTERM.

    FILES: campaign files to run (default: every stored campaign, its file re-read;
    none stored: no campaigns). Call-backs are answered when a SIP account registers.
    """
    settings = settings_of(ctx)
    with open_store(settings, create=True, upgrade=True) as store:
        definitions = campaigns_to_run(files, settings, store)
        plan = DaemonPlan(
            listen=True,
            record_to=record_to,
            campaigns=definitions,
            on_campaigns_started=lambda report: click.echo(
                campaigns_started(definitions, report), err=True
            ),
            answer_callbacks=receives_callbacks(settings),
            retention=True,
            history_import=True,
        )
        click.echo(
            f"running: listener on {amis_listened_to(settings, with_user=False)}, "
            f"{len(definitions)} campaigns, "
            f"call-backs {'answered' if plan.answer_callbacks else 'not answered'}; "
            f"storing in {store.url_for_display}",
            err=True,
        )
        run_daemon(settings, store, plan, load_settings_again=lambda: settings_of(ctx))
