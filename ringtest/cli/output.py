"""The CLI's `--format` option; the rendering itself is `ringtest.export.render`."""

from __future__ import annotations

import click

from ringtest.export import FORMATS

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; csv or json for tools (every field).",
)
