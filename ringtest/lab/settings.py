"""ringtest's own settings for the lab PBX: `examples/lab.toml`, and what follows from it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ringtest
from ami_listener.lines import LineDirectory
from ringtest.config import Settings, load_settings
from ringtest.config.adapters import line_directory_of

LAB_CONFIG = Path(ringtest.__file__).resolve().parent.parent / "examples" / "lab.toml"
"""The lab's ringtest.toml (in the source checkout, beside `docker/asterisk/`)."""


def lab_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings for the lab PBX, with `overrides` (dotted keys) on top."""
    return load_settings(LAB_CONFIG, overrides=overrides)


def lab_lines() -> LineDirectory:
    """The lab council's monitored lines, as `examples/lab.toml` lists them."""
    return line_directory_of(lab_settings())
