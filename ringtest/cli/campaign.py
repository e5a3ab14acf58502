"""`ringtest campaign validate | plan | run | status | pause | resume`: ring-test campaigns.

Thin: each command reads its input, calls `ringtest.campaigns` and prints. The
clock is read here, at the edge, and passed in as `now`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table

from ringtest.campaigns.daemon import SyncReport
from ringtest.campaigns.model import CampaignDefinition
from ringtest.campaigns.plan import monday_of, parse_week, plan_week, shortfall, week_label
from ringtest.campaigns.source import load_campaign, load_campaigns
from ringtest.campaigns.status import TargetStatus, campaign_status
from ringtest.cli.common import local_zone, open_store, settings_of
from ringtest.cli.output import format_option
from ringtest.config import Settings
from ringtest.core.errors import CampaignError
from ringtest.outputs.export import render
from ringtest.services.assembly import (
    DaemonPlan,
    campaigns_to_run,
    receives_callbacks,
    run_daemon,
)

PLAN_COLUMNS = ("planned_at", "target", "dial", "department", "callback")
STATUS_COLUMNS = (
    "campaign",
    "target",
    "planned",
    "in_progress",
    "done",
    "failed",
    "skipped",
    "next_call",
)
_FILES = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def campaign() -> None:
    """Ring-test campaigns: schedules/*.yaml run unattended (see schedules/README.md)."""


@campaign.command()
@click.argument("files", nargs=-1, required=True, type=_FILES)
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check campaign files; print every mistake as FILE:LINE: what is wrong: the fix."""
    settings = settings_of(ctx)
    try:
        definitions = load_campaigns(files, settings)
    except CampaignError as error:
        for problem in error.problems:
            click.echo(f"ringtest: {problem}", err=True)
        raise SystemExit(error.exit_code) from None
    for path, definition in zip(files, definitions, strict=True):
        campaign = definition.campaign
        click.echo(
            f"{path}: campaign '{campaign.name}' is valid: {len(campaign.targets)} targets, "
            f"{campaign.frequency.tests} per {campaign.frequency.per} each, "
            f"from account '{definition.account}'"
        )


@campaign.command()
@click.argument("file", type=_FILES)
@click.option("--week", help="ISO week to plan, like 2026-W48 (default: this week).")
@format_option(("table", "csv"), tools_get="UTC instants")
@click.pass_context
def plan(ctx: click.Context, file: Path, week: str | None, output_format: str) -> None:
    """Show the exact calls a campaign will place in one week."""
    settings = settings_of(ctx)
    definition = load_campaign(file, settings)
    monday = parse_week(week) if week else monday_of(datetime.now(UTC), definition.timezone)
    calendar = definition.working_calendar()
    calls = plan_week(definition, calendar, monday)
    short = shortfall(definition, calendar, monday)
    if output_format == "table":
        click.echo(
            f"campaign '{definition.campaign.name}', week {week_label(monday)}: "
            f"{len(calls)} calls (times in {definition.timezone})"
        )
    if short is not None:
        click.echo(short.describe(), err=output_format != "table")
    zone = ZoneInfo(definition.timezone)
    click.echo(render(calls, output_format, PLAN_COLUMNS, zone), nl=False)


@campaign.command()
@click.argument("files", nargs=-1, type=_FILES)
@click.pass_context
def run(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Run campaigns until SIGTERM (default: every stored campaign, its file re-read).

    While it runs, the campaign accounts answer call-backs to callback tests, the
    weekly report is sent at report.schedule_day/schedule_time, and an edited
    campaign file is picked up within 30 s (one that does not validate is logged
    and the last good version keeps running).
    """
    settings = settings_of(ctx)
    with open_store(settings, create=True) as store:
        definitions = campaigns_to_run(files, settings, store)
        if not definitions:
            raise CampaignError(
                "no campaigns to run: give campaign files, e.g. "
                "ringtest campaign run schedules/council.yaml"
            )
        plan = DaemonPlan(
            campaigns=definitions,
            on_campaigns_started=lambda report: click.echo(
                f"{campaigns_started(definitions, report)}; storing in {store.url_for_display}",
                err=True,
            ),
            answer_callbacks=receives_callbacks(settings),
            history_import=True,
        )
        run_daemon(settings, store, plan)


def campaigns_started(definitions: Sequence[CampaignDefinition], report: SyncReport) -> str:
    """The line that says which campaigns run and what their first sync did."""
    names = ", ".join(definition.campaign.name for definition in definitions)
    return (
        f"running campaigns {names}: {report.jobs_scheduled} slots scheduled "
        f"({report.slots_added} new, {report.slots_dropped} dropped, "
        f"{report.interrupted} interrupted settled)"
    )


@campaign.command()
@format_option()
@click.pass_context
def status(ctx: click.Context, output_format: str) -> None:
    """Per campaign and target: planned, done, failed, skipped, and the next call."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        rows = campaign_status(store.campaigns(), store.runs(), datetime.now(UTC))
    if output_format != "table":
        click.echo(render(rows, output_format, STATUS_COLUMNS, local_zone(settings)), nl=False)
        return
    click.echo(_status_table(rows, settings), nl=False)


def _status_table(rows: list[TargetStatus], settings: Settings) -> str:
    if not rows:
        return "(no campaigns: run ringtest campaign run FILE)\n"
    zone = local_zone(settings)
    table = Table(
        "campaign",
        "target",
        "planned",
        "done",
        "failed",
        "skipped",
        "next call",
        "progress",
        "last problem",
    )
    for row in rows:
        next_call = (
            row.next_call.astimezone(zone).strftime("%a %d %b %H:%M") if row.next_call else ""
        )
        table.add_row(
            row.campaign + (" (paused)" if row.paused else ""),
            row.target,
            str(row.planned + row.in_progress),
            str(row.done),
            str(row.failed),
            str(row.skipped),
            next_call,
            ProgressBar(total=max(row.total, 1), completed=row.settled, width=20),
            row.last_problem,
        )
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


@campaign.command()
@click.argument("name")
@click.pass_context
def pause(ctx: click.Context, name: str) -> None:
    """Pause campaign NAME: its slots are recorded not placed until it is resumed."""
    _set_paused(ctx, name, True)


@campaign.command()
@click.argument("name")
@click.pass_context
def resume(ctx: click.Context, name: str) -> None:
    """Resume campaign NAME: its future slots are placed again."""
    _set_paused(ctx, name, False)


def _set_paused(ctx: click.Context, name: str, paused: bool) -> None:
    settings = settings_of(ctx)
    with open_store(settings) as store:
        store.set_campaign_paused(name, paused, at=datetime.now(UTC))
    click.echo(f"campaign '{name}' {'paused' if paused else 'resumed'}")
