"""`ringtest privacy retain | forget NUMBER | subject-access NUMBER`: UK GDPR duties by hand.

`privacy retain` runs the same `apply_retention` the daemon runs daily. NUMBER
may be written any way a person would (``01632 960001``, ``+44 1632 960001``,
``0044...``); it is read in `phone.default_region`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from ringtest.cli.common import open_store, settings_of
from ringtest.config import Settings
from ringtest.core.standards import normalise_number
from ringtest.services.retention import apply_retention
from ringtest.services.subject_rights import Subject, forget, subject_access_json


@click.group()
def privacy() -> None:
    """Retention of caller numbers, recordings and call rows ([privacy] settings)."""


@privacy.command()
@click.pass_context
def retain(ctx: click.Context) -> None:
    """Pseudonymise and delete what [privacy] says is due now (the daemon does it daily)."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        summary = apply_retention(settings, store, datetime.now(UTC))
    click.echo(summary.describe())


def _subject(settings: Settings, number: str) -> Subject:
    try:
        e164 = normalise_number(number, settings.phone.default_region)
    except ValueError:
        raise click.BadParameter(
            f"'{number}' is not a phone number: write it like 01632 960001 or +441632960001",
            param_hint="NUMBER",
        ) from None
    return Subject.of(settings, e164)


@click.command(name="forget")
@click.argument("number")
@click.pass_context
def forget_command(ctx: click.Context, number: str) -> None:
    """Erase everything held about NUMBER, and print what was removed."""
    settings = settings_of(ctx)
    subject = _subject(settings, number)
    with open_store(settings) as store:
        erasure = forget(settings, store, subject)
    click.echo("\n".join(erasure.lines(subject)))


@click.command(name="subject-access")
@click.argument("number")
@click.pass_context
def subject_access_command(ctx: click.Context, number: str) -> None:
    """Print everything held about NUMBER as JSON."""
    settings = settings_of(ctx)
    subject = _subject(settings, number)
    with open_store(settings) as store:
        click.echo(subject_access_json(settings, store, subject))
