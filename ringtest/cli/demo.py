"""`ringtest demo`: the lab council's morning, measured end to end (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from ringtest.lab.demo import run_demo


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where to write the results.",
)
def demo(out_dir: Path) -> None:
    """Bring up the lab PBX, drive citizen calls, callbacks and ring tests, report."""
    run_demo(out_dir, Console())
