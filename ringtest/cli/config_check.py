"""`ringtest config check`: the effective settings, secrets hidden, and every problem found.

A setting that is wrong stops every other command at its first problem; this
lists them all, each one line with its source and the fix, and (when the
settings validate) prints what ringtest will actually use, after the file, the
`RINGTEST_*` variables and the defaults are combined. Campaign files given as
arguments are checked against those settings too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr

from ringtest.campaigns.source import load_campaign
from ringtest.config import Settings
from ringtest.config.loading import check_settings
from ringtest.core.errors import CampaignError, ConfigError

HIDDEN = "***"


def _shown(value: Any) -> Any:
    """`value` as JSON shows it, every secret replaced by `HIDDEN`."""
    if isinstance(value, SecretStr):
        return HIDDEN
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def effective_settings(settings: Settings) -> list[str]:
    """One ``section.key = value`` line (value as JSON) per setting, secrets as ``***``."""
    out = []
    for section, values in settings.model_dump(by_alias=True).items():
        if isinstance(values, dict):
            out += [f"{section}.{key} = {json.dumps(_shown(v))}" for key, v in values.items()]
        else:
            out.append(f"{section} = {json.dumps(_shown(values))}")
    return out


def config_report(config_path: str | None, campaign_files: tuple[Path, ...]) -> tuple[str, bool]:
    """The text `config check` prints and whether it found no problem."""
    check = check_settings(config_path)
    problems = list(check.problems)
    lines = []
    if check.settings is not None:
        lines += ["effective settings:"] + [
            f"  {line}" for line in effective_settings(check.settings)
        ]
        try:
            check.settings.web.check_exposure()
        except ConfigError as error:
            problems.append(str(error))
        for path in campaign_files:
            try:
                load_campaign(path, check.settings)
            except CampaignError as error:
                problems += str(error).splitlines()
    lines += [f"{len(problems)} problems:" if problems else "no problems found"]
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines), not problems


@click.group()
def config() -> None:
    """Check ringtest's settings."""


@config.command()
@click.argument("campaign_files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def check(ctx: click.Context, campaign_files: tuple[Path, ...]) -> None:
    """Print the effective settings (secrets as ***) and every problem; exit 1 on problems."""
    text, ok = config_report(ctx.find_root().obj["config_path"], campaign_files)
    click.echo(text)
    if not ok:
        sys.exit(1)
