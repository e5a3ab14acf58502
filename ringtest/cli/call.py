"""`ringtest call NUMBER`: place one mystery ring test now and print its result.

``--format json`` prints every field of the result and the greeting audit's
(`transcript`, `announced_name`, `greeted`; null when no person's greeting was heard).
``--ivr "w2 1"`` navigates a menu (wait 2 s after the answer, press 1); the table then
also shows the time in the menu, the rings after the last key and the time to a person."""

from __future__ import annotations

import json

import click

from ringtest.cli.common import local_zone, open_store, settings_of
from ringtest.cli.evidence import audit_fields
from ringtest.cli.output import format_option
from ringtest.outputs.export import render
from ringtest.sources.ring_tests import (
    RingTestRequest,
    account_settings_of,
    key_plan_of,
    run_ring_tests,
)

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
IVR_COLUMNS = ("ivr_keys", "ivr_seconds", "rings_after_ivr", "to_person_seconds")
"""Added to the table for a call through a menu (``--ivr``)."""


@click.command()
@click.argument("number")
@click.option("--max-rings", type=click.IntRange(min=1), help="Hang up after N unanswered rings.")
@click.option("--callback", is_flag=True, help="Leave a callback request if no person answers.")
@click.option("--account", help="The [[sip.accounts]] name to call from (default: the first).")
@click.option("--department", default="", help="The department the number belongs to.")
@click.option(
    "--ivr",
    "ivr_keys",
    metavar="KEYS",
    help="Keys that get through the line's menu, e.g. 'w2 1': wait 2 s, press 1.",
)
@format_option(("table", "json"))
@click.pass_context
def call(
    ctx: click.Context,
    number: str,
    max_rings: int | None,
    callback: bool,
    account: str | None,
    department: str,
    ivr_keys: str | None,
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
        ivr_keys=ivr_keys,
    )
    account_settings_of(settings, account)  # no account: refused before a database is made
    key_plan_of(request)
    with open_store(settings, create=True) as store:
        results = run_ring_tests(settings, store, [request])
        audits = {result.test_id: store.greeting_audit(result.test_id) for result in results}
    if output_format == "json":
        printed = json.loads(render(results, "json"))
        for row in printed:
            row.update(audit_fields(audits[row["test_id"]]))
        click.echo(json.dumps(printed))
        return
    columns = RING_TEST_COLUMNS if ivr_keys is None else RING_TEST_COLUMNS + IVR_COLUMNS
    click.echo(render(results, output_format, columns, local_zone(settings)))
