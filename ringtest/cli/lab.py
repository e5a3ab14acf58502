"""`ringtest lab ...`: bring the lab PBX (Asterisk in a chroot + staff agents) up and down."""

from __future__ import annotations

import click

from ringtest.lab.pbx import lab_down, lab_log_tail, lab_status, lab_up


@click.group()
def lab() -> None:
    """The lab PBX: a real Asterisk council on 127.0.0.1 with sipp staff agents."""


@lab.command()
def up() -> None:
    """Build (first time only) and start the lab; report what is up."""
    for line in lab_up().lines():
        click.echo(line)


@lab.command()
def down() -> None:
    """Stop Asterisk and the staff agents."""
    lab_down()
    click.echo("lab PBX is down")


@lab.command()
def status() -> None:
    """Say whether the lab is up, with PID, Asterisk version and ports."""
    for line in lab_status().lines():
        click.echo(line)


@lab.command()
@click.option("-n", "--lines", default=40, show_default=True, help="How many log lines.")
def logs(lines: int) -> None:
    """Print the tail of Asterisk's log."""
    for line in lab_log_tail(lines=lines):
        click.echo(line)
