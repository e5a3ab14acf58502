"""The `ringtest` command: a thin shell over the library.

Every subcommand calls the same functions the tests call. Domain errors
(`RingtestError`) are turned into one line on stderr here, in one place:
``ringtest: <what went wrong and the fix>``, with the error's exit code.
Every command runs with umask 077: what it writes holds caller numbers.
Subcommands are imported only when run (`LazyGroup`): `COMMANDS` names where each is.
"""

from __future__ import annotations

import logging
import sys

import click

from ringtest import __version__
from ringtest.cli.lazy import LazyGroup
from ringtest.core.errors import RingtestError
from ringtest.core.private_files import restrict_umask

log = logging.getLogger("ringtest")

COMMANDS = {
    "lab": "ringtest.cli.lab:lab",
    "listen": "ringtest.cli.calls:listen",
    "replay": "ringtest.cli.calls:replay",
    "calls": "ringtest.cli.calls:calls",
    "callbacks": "ringtest.cli.calls:callbacks",
    "gaps": "ringtest.cli.gaps:gaps",
    "lines": "ringtest.cli.lines:lines",
    "callbacks-wait": "ringtest.cli.callback_answering:callbacks_wait",
    "demo": "ringtest.cli.demo:demo",
    "call": "ringtest.cli.call:call",
    "evidence": "ringtest.cli.evidence:evidence",
    "campaign": "ringtest.cli.campaign:campaign",
    "config": "ringtest.cli.config_check:config",
    "report": "ringtest.cli.report:report",
    "publish": "ringtest.cli.report:publish",
    "import-cdr": "ringtest.cli.history:import_cdr_command",
    "import-cel": "ringtest.cli.history:import_cel_command",
    "import-queue-log": "ringtest.cli.history:import_queue_log_command",
    "reconcile": "ringtest.cli.reconcile:reconcile_command",
    "run": "ringtest.cli.run:run",
    "privacy": "ringtest.cli.privacy:privacy",
    "forget": "ringtest.cli.privacy:forget_command",
    "subject-access": "ringtest.cli.privacy:subject_access_command",
    "db": "ringtest.cli.db:db",
    "watch": "ringtest.cli.watch:watch",
    "health": "ringtest.cli.health:health",
}
"""Each subcommand's name and where it is defined (``module:attribute``)."""


def _config_after_command(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["config_path"] = value


def accept_config_everywhere(command: click.Command) -> None:
    """Give `command` (and each of its subcommands) `--config` too, so `ringtest calls
    --config X` works as the README says; given after the command, it wins over the one
    before it."""
    command.params.append(
        click.Option(
            ["--config"],
            type=click.Path(dir_okay=False),
            expose_value=False,
            is_eager=True,
            callback=_config_after_command,
            help="ringtest.toml to read (env RINGTEST_CONFIG).",
        )
    )
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            accept_config_everywhere(subcommand)


@click.group(
    cls=LazyGroup,
    lazy_subcommands=COMMANDS,
    prepare=accept_config_everywhere,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="ringtest")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="RINGTEST_CONFIG",
    help="ringtest.toml to read (env RINGTEST_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Audit telephone answering and call-back standards on an Asterisk PBX."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = {"config_path": config_path}


def main() -> None:
    """Console entry point: run the CLI (files it creates private) and turn domain errors
    into one line."""
    restrict_umask()
    try:
        cli.main(standalone_mode=False, prog_name="ringtest")
    except RingtestError as error:
        click.echo(f"ringtest: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("ringtest: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        hint = f" (see `{error.ctx.command_path} --help`)" if getattr(error, "ctx", None) else ""
        click.echo(f"ringtest: {error.format_message()}{hint}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("ringtest: interrupted", err=True)
        sys.exit(130)
