"""`ringtest call NUMBER`: place one mystery ring test now and print its result.

``--format json`` prints every field of the result and the greeting audit's
(`transcript`, `announced_name`, `greeted`; null when no person's greeting was heard)."""

from __future__ import annotations

import json

import click

from ringtest.cli.common import local_zone, open_store, settings_of
from ringtest.cli.evidence import audit_fields
from ringtest.cli.output import format_option
from ringtest.outputs.export import render
from ringtest.sources.ring_tests import RingTestRequest, account_settings_of, run_ring_tests

RING_TEST_COLUMNS = (
    "placed_at",
    "target",
    "outcome",
    "answered_by",
    "pdd_seconds",
    "ring_seconds",
    "rings",
    "within_standard",
    "sip_code",
    "reason",
)


@click.command()
@click.argument("number")
@click.option("--max-rings", type=click.IntRange(min=1), help="Hang up after N unanswered rings.")
@click.option("--callback", is_flag=True, help="Leave a callback request if no person answers.")
@click.option("--account", help="The [[sip.accounts]] name to call from (default: the first).")
@click.option("--department", default="", help="The department the number belongs to.")
@format_option(("table", "json"))
@click.pass_context
def call(
    ctx: click.Context,
    number: str,
    max_rings: int | None,
    callback: bool,
    account: str | None,
    department: str,
    output_format: str,
) -> None:
    """Ring NUMBER (E.164, extension or sip: URI) as a citizen would and measure it."""
    settings = settings_of(ctx)
    request = RingTestRequest(
        target=number,
        department=department,
        account=account,
        max_rings=max_rings,
        callback=callback,
    )
    account_settings_of(settings, account)  # no account: refused before a database is made
    with open_store(settings, create=True) as store:
        results = run_ring_tests(settings, store, [request])
        audits = {result.test_id: store.greeting_audit(result.test_id) for result in results}
    if output_format == "json":
        printed = json.loads(render(results, "json"))
        for row in printed:
            row.update(audit_fields(audits[row["test_id"]]))
        click.echo(json.dumps(printed))
        return
    click.echo(render(results, output_format, RING_TEST_COLUMNS, local_zone(settings)))
