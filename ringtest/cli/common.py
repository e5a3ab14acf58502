"""What every subcommand needs: the settings, the store, and local times from the user."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from ringtest.config import Settings, load_settings
from ringtest.core.errors import ConfigError
from ringtest.core.private_files import share_with_group
from ringtest.store import Store


def settings_of(ctx: click.Context) -> Settings:
    """Settings from --config / RINGTEST_CONFIG, the environment and defaults; what the
    command creates from now on is shared with the group when `[privacy] group_access`."""
    settings = load_settings(ctx.find_root().obj["config_path"])
    share_with_group(settings.privacy.group_access)
    return settings


PBX_OPTION = click.option(
    "--pbx",
    "pbx",
    default=None,
    help="Which [[pbx]] the history is of (needed when several are configured).",
)
"""The option of the commands that read one PBX's history (``--pbx NAME``)."""


def amis_listened_to(settings: Settings, *, with_user: bool = True) -> str:
    """The AMI of each configured PBX (and the user that logs in), for the line a daemon
    prints at start."""
    views = settings.pbx_views()
    named = len(views) > 1
    return ", ".join(
        f"{f'{view.ami.pbx} at ' if named else ''}{view.ami.host}:{view.ami.port}"
        + (f" as '{view.ami.user}'" if with_user else "")
        for view in views
    )


def settings_of_pbx(ctx: click.Context, pbx: str | None) -> Settings:
    """`settings_of`, seen from PBX `pbx` (`Settings.pbx_view`): its lines and its label
    on what is imported. Several PBXs and no --pbx is a `ConfigError` naming them."""
    settings = settings_of(ctx)
    if pbx is not None:
        return settings.pbx_view(pbx)
    views = settings.pbx_views()
    if len(views) > 1:
        names = ", ".join(view.ami.pbx for view in views)
        raise ConfigError(f"several PBXs are configured ({names}): name one with --pbx")
    return views[0]


def open_store(settings: Settings, *, create: bool = False, upgrade: bool = False) -> Store:
    """The configured store (RINGTEST_DB / store.url, else the embedded SQLite).

    Read commands open an existing database only: a mistyped path is a one-line error
    naming it, not a new empty database. The commands that store what they measure pass
    `create`, and say on stderr where they created a new one. With `upgrade`, an older
    schema is upgraded (the daemons and `db upgrade`).
    """
    store = Store.open(settings.store_url(), create=create, upgrade=upgrade)
    if store.created:
        click.echo(f"ringtest: created a new database {store.url_for_display}", err=True)
    return store


def local_zone(settings: Settings) -> ZoneInfo:
    """The service's time zone, for showing times and reading the user's dates."""
    return ZoneInfo(settings.calendar.timezone)


def configured_department(settings: Settings, name: str | None, option: str) -> str | None:
    """`name` as spelt in `[[lines]]`, matched ignoring case; None when not given.

    A name no line has is a `click.BadParameter` listing the configured departments.
    """
    if name is None:
        return None
    configured = list(dict.fromkeys(line.department for line in settings.lines))
    match = next((known for known in configured if known.casefold() == name.casefold()), None)
    if match is not None:
        return match
    if not configured:
        raise click.BadParameter(
            f"'{name}' is not a department: none is configured, add [[lines]] with a "
            "department to ringtest.toml",
            param_hint=option,
        )
    raise click.BadParameter(
        f"'{name}' is not a department of any line: use one of {', '.join(configured)}",
        param_hint=option,
    )


def instant_option(name: str, help_text: str):
    """A --since/--until option: an ISO date or date-time in the service's local time."""
    return click.option(name, type=str, default=None, help=help_text)


def parse_local_instant(text: str | None, zone: ZoneInfo, option: str) -> datetime | None:
    """`2026-11-23` or `2026-11-23T09:30` in `zone` as an aware UTC instant."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date: write it like 2026-11-23 or 2026-11-23T09:30",
            param_hint=option,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


MAX_BAD_ROWS_SHOWN = 20
"""How many of an import's bad rows are named one by one; the rest are counted."""


def echo_bad_rows(source: object, problems: list[str], count: int, what: str = "rows") -> None:
    """On stderr: the first `MAX_BAD_ROWS_SHOWN` of an import's `count` bad `what` of
    `source` (each a problem with its line), then how many more were skipped."""
    for problem in problems[:MAX_BAD_ROWS_SHOWN]:
        click.echo(f"ringtest: {source}: {problem}: skipped", err=True)
    if count > MAX_BAD_ROWS_SHOWN:
        more = count - MAX_BAD_ROWS_SHOWN
        click.echo(f"ringtest: {source}: {more} more bad {what} skipped", err=True)
