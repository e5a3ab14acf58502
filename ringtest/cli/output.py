"""The CLI's one `--format` option; the rendering itself is `ringtest.outputs.export.render`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from ringtest.outputs.export import FORMATS


def format_option(
    formats: Sequence[str] = FORMATS, tools_get: str = "every field"
) -> Callable[[Any], Any]:
    """``--format`` (into `output_format`): one of `formats`, ``table`` (for people) by
    default; the others are for tools, which get `tools_get`."""
    for_tools = " or ".join(name for name in formats if name != "table")
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(tuple(formats)),
        default="table",
        show_default=True,
        help=f"table for people; {for_tools} for tools ({tools_get}).",
    )
