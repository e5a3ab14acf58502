"""`ringtest db upgrade`: bring the database's schema to this ringtest's revision."""

from __future__ import annotations

import click

from ringtest.cli.common import open_store, settings_of
from ringtest.store import migrate


@click.group()
def db() -> None:
    """The database's schema."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Upgrade the database to this ringtest's schema, keeping every row (an SQLite file is
    copied to NAME.YYYYMMDDTHHMMSSZ.bak beside it first). `listen` and `run` do this at start.
    """
    with open_store(settings_of(ctx), upgrade=True) as store:
        change = store.schema_change
        where = store.url_for_display
    if change is None:
        click.echo(f"database {where} is at schema revision {migrate.head_revision()} already")
    elif change.from_revision is None:
        click.echo(f"database {where} created at schema revision {change.to_revision}")
    else:
        kept = f"; the file as it was is kept at {change.backup_path}" if change.backup_path else ""
        click.echo(
            f"database {where} upgraded from schema revision {change.from_revision} "
            f"to {change.to_revision}{kept}"
        )
