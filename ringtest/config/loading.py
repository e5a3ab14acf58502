"""`load_settings`: read the sources in order of precedence, then validate once.

Validation has two steps: `[phone]` first, because its `default_region` is how
every other phone number in the settings is read; then everything else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ringtest.config.messages import config_error, config_problems
from ringtest.config.models import Settings
from ringtest.config.sources import (
    OVERRIDES_LABEL,
    Origins,
    apply_environment,
    merge,
    nest_overrides,
    read_toml,
)

CONFIG_PATH_VARIABLE = "RINGTEST_CONFIG"
DEFAULTS_LABEL = "settings"


def load_settings(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The validated settings from (later wins) the TOML file, `RINGTEST_*` variables
    and `overrides`.

    path: the TOML file; None means RINGTEST_CONFIG's, or no file (defaults only).
    overrides: from CLI flags, dotted keys (``{"ami.port": 5039}``) or nested tables.
    environ: the environment to read; defaults to `os.environ`.
    Raises `ConfigError` with one line naming the source, the setting and the fix.
    """
    merged, origins, default_label = _merged_sources(path, overrides, environ)
    try:
        return _validated(merged)
    except ValidationError as error:
        raise config_error(error, origins, default_label) from None


@dataclass(frozen=True)
class SettingsCheck:
    """What `ringtest config check` reports: the settings (None when they do not
    validate) and every problem found, one line each, with its source and fix."""

    settings: Settings | None
    problems: list[str]


def check_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> SettingsCheck:
    """Like `load_settings`, but every problem is listed instead of the first raised.

    A file that cannot be read at all still raises `ConfigError`."""
    merged, origins, default_label = _merged_sources(path, None, environ)
    try:
        return SettingsCheck(_validated(merged), [])
    except ValidationError as error:
        return SettingsCheck(None, config_problems(error, origins, default_label))


def _merged_sources(
    path: str | Path | None,
    overrides: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None,
) -> tuple[dict[str, Any], Origins, str]:
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_PATH_VARIABLE, "").strip():
        path = environ[CONFIG_PATH_VARIABLE]
    origins = Origins()
    merged: dict[str, Any] = {}
    default_label = DEFAULTS_LABEL
    if path is not None:
        default_label = str(path)
        merge(merged, read_toml(Path(path)), default_label, origins)
    apply_environment(merged, environ, origins)
    merge(merged, nest_overrides(overrides or {}), OVERRIDES_LABEL, origins)
    return merged, origins, default_label


def _validated(merged: dict[str, Any]) -> Settings:
    phone_only = Settings.model_validate({"phone": merged.get("phone", {})})
    context = {"default_region": phone_only.phone.default_region}
    return Settings.model_validate(merged, context=context)
