"""The `ringtest` command: a thin shell over the library.

Every subcommand calls the same functions the tests call. Domain errors
(`RingtestError`) are turned into one line on stderr here, in one place:
``ringtest: <what went wrong and the fix>``, with the error's exit code.
Every command runs with umask 077: what it writes holds caller numbers.
"""

from __future__ import annotations

import logging
import sys

import click

from ringtest import __version__
from ringtest.cli.call import call
from ringtest.cli.callback_answering import callbacks_wait
from ringtest.cli.calls import callbacks, calls, listen, replay
from ringtest.cli.campaign import campaign
from ringtest.cli.config_check import config
from ringtest.cli.db import db
from ringtest.cli.demo import demo
from ringtest.cli.gaps import gaps
from ringtest.cli.lab import lab
from ringtest.cli.lines import lines
from ringtest.cli.privacy import forget_command, privacy, subject_access_command
from ringtest.cli.report import import_cdr_command, publish, report
from ringtest.cli.run import run
from ringtest.core.errors import RingtestError
from ringtest.core.private_files import restrict_umask

log = logging.getLogger("ringtest")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for command in (
    lab,
    listen,
    replay,
    calls,
    callbacks,
    gaps,
    lines,
    callbacks_wait,
    demo,
    call,
    campaign,
    config,
    report,
    publish,
    import_cdr_command,
    run,
    privacy,
    forget_command,
    subject_access_command,
    db,
):
    cli.add_command(command)


def _config_after_command(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["config_path"] = value


def _accept_config_everywhere(group: click.Group) -> None:
    """Give every subcommand `--config` too, so `ringtest calls --config X` works as the
    README says; given after the command, it wins over the one before it."""
    for command in group.commands.values():
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
            _accept_config_everywhere(command)


_accept_config_everywhere(cli)
