"""`ringtest evidence TEST_ID`: what one stored ring test heard, and where its WAV is.

It plays nothing: it prints the verdict (who answered), the ring time (float
seconds) and rings, and the evidence WAV's path with whether it still exists
(retention deletes WAVs older than `privacy.evidence_retention_days`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ringtest.cli.common import open_store, settings_of
from ringtest.cli.output import format_option
from ringtest.core.records import GreetingAudit, RingTestResult


def audit_fields(audit: GreetingAudit | None) -> dict[str, object]:
    """What the greeting audit heard: its transcript and verdicts, None when not audited."""
    return {
        "transcript": None if audit is None else audit.transcript,
        "announced_name": None if audit is None else audit.announced_name.value,
        "greeted": None if audit is None else audit.greeted.value,
    }


def evidence_fields(result: RingTestResult, audit: GreetingAudit | None) -> dict[str, object]:
    """The fields `ringtest evidence` prints, in order; `evidence_exists` is checked now."""
    path = result.evidence_path
    return {
        "test_id": result.test_id,
        "target": result.target,
        "outcome": result.outcome.value,
        "answered_by": result.answered_by.value,
        "ring_seconds": result.ring_seconds,
        "rings": result.rings,
        "evidence_path": path,
        "evidence_exists": path is not None and Path(path).is_file(),
        **audit_fields(audit),
    }


@click.command()
@click.argument("test_id")
@format_option(("table", "json"))
@click.pass_context
def evidence(ctx: click.Context, test_id: str, output_format: str) -> None:
    """Print what the stored ring test TEST_ID heard and where its evidence WAV is."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        found = [result for result in store.ring_tests() if result.test_id == test_id]
        audit = store.greeting_audit(test_id)
    if not found:
        raise click.ClickException(
            f"no ring test {test_id}: see `ringtest calls --include-test-calls`"
        )
    fields = evidence_fields(found[0], audit)
    if output_format == "json":
        click.echo(json.dumps(fields, indent=2))
        return
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        click.echo(f"{name:<{width}}  {'' if value is None else value}")
