"""Validation errors, turned into the one line a user reads.

`describe` is the one translator of a pydantic error, for every kind of file we
validate; a `FileKind` says how that kind names a setting, shows a value and
what it suggests. The settings (`SETTINGS_FILE`) read
``<source>: <setting> <value> <what is wrong>: <the fix>``, where <source> is the
file or variable the value came from, e.g.
``ringtest.toml: ami.port 'abc' is not a whole number: write digits without quotes``.
When validation finds several errors, the first is shown and the rest counted:
`` (and 2 more)``. Secret values, tables and lists are never echoed. Campaign
files (`ringtest.campaigns.source.CAMPAIGN_FILE`) read ``FILE:LINE: ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ringtest.config.fields import SETTING_PROBLEM, VALUE_PROBLEM
from ringtest.config.models import Settings
from ringtest.config.sources import Origins, model_in
from ringtest.core.errors import ConfigError

Loc = tuple[str | int, ...]
"""Where in a file's data a problem is: keys and list indexes, e.g. ``("lines", 0, "number")``."""

COMMON_PROBLEMS: Mapping[str, str] = {
    "int_parsing": "is not a whole number: write digits without quotes",
    "int_type": "is not a whole number: write digits without quotes",
    "int_from_float": "is not a whole number: leave out the decimals",
    "date_type": "is not a date: write it as YYYY-MM-DD",
    "date_parsing": "is not a date: write it as YYYY-MM-DD",
    "date_from_datetime_parsing": "is not a date: write it as YYYY-MM-DD",
    "greater_than_equal": "is too small: use {ge:g} or more",
    "less_than_equal": "is too large: use {le:g} or less",
    "string_too_short": "is empty: write some text",
}
"""pydantic error type -> what is wrong and the fix, the same in every kind of file."""


@dataclass(frozen=True)
class FileKind:
    """How one kind of file words a validation error.

    problems: pydantic error type -> what is wrong and the fix (``{ge:g}``-style
        fields come from the error's context).
    help: where to read more, for an error type `problems` does not know.
    name: how a location is named in the line (``ami.port``, ``target``).
    unknown_key: the whole text for a key the model does not know.
    missing: the whole text for a required key that is absent.
    show: the value as quoted in the line; None when it must not be shown.
    """

    problems: Mapping[str, str]
    help: str
    name: Callable[[Loc], str]
    unknown_key: Callable[[Loc], str]
    missing: Callable[[Loc], str]
    show: Callable[[Loc, Any], str | None]


def describe(detail: ErrorDetails, kind: FileKind) -> str:
    """One pydantic error as ``<name> [<value>] <what is wrong>: <the fix>``."""
    loc = tuple(detail["loc"])
    error_type = detail["type"]
    if error_type == "extra_forbidden":
        return kind.unknown_key(loc)
    if error_type == "missing":
        return kind.missing(loc)
    context = detail.get("ctx") or {}
    if error_type in (VALUE_PROBLEM, SETTING_PROBLEM):
        text = context["text"]
    else:
        template = kind.problems.get(error_type, f"is not valid ({{msg}}): see {kind.help}")
        text = template.format(msg=detail["msg"].lower(), **context)
    shown = None if error_type == SETTING_PROBLEM else kind.show(loc, detail["input"])
    return " ".join(part for part in (kind.name(loc), shown, text) if part)


SECRET_KEYS = frozenset({"secret", "password", "url"})
"""Keys whose values are never shown in an error (url: a store URL may hold a password)."""
_MAX_VALUE_CHARS = 60
_SHOWN_TYPES = (str, int, float, date)
"""Values shown in errors; tables and lists are not, as they may hold secrets."""


def dotted(loc: Loc) -> str:
    """A setting's path as written in errors: ``ami.port``, ``lines[0].number``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _model_at(loc: Loc) -> type[BaseModel]:
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, str) and part in model.model_fields:
            model = model_in(model.model_fields[part].annotation) or model
    return model


def _unknown_setting(loc: Loc) -> str:
    known = ", ".join(
        field.alias or name for name, field in _model_at(loc[:-1]).model_fields.items()
    )
    return f"unknown setting '{dotted(loc)}': check the spelling (known: {known})"


def _setting_value(loc: Loc, value: Any) -> str | None:
    if any(part in SECRET_KEYS for part in loc) or not isinstance(value, _SHOWN_TYPES):
        return None
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


SETTINGS_FILE = FileKind(
    problems={
        **COMMON_PROBLEMS,
        "float_parsing": "is not a number: write it without quotes, e.g. 3.0",
        "float_type": "is not a number: write it without quotes, e.g. 3.0",
        "bool_parsing": "is not true or false: write true or false",
        "bool_type": "is not true or false: write true or false",
        "string_type": 'is not text: write it in quotes, e.g. "value"',
        "path_type": 'is not a file path: write it in quotes, e.g. "/etc/ringtest/secret"',
        "list_type": "is not a list: write it as [ ... ], or as [[...]] tables",
        "model_type": "is not a table: write it as a [section] (a JSON object in a variable)",
        "dict_type": "is not a table: write it as a [section] (a JSON object in a variable)",
        "date_from_datetime_inexact": "is not a date: write it as YYYY-MM-DD, without a time",
        "greater_than": "is too small: use a number more than {gt:g}",
        "literal_error": "is not a valid choice: use {expected}",
        "enum": "is not a valid choice: use {expected}",
    },
    help="Configuration in README.md",
    name=dotted,
    unknown_key=_unknown_setting,
    missing=lambda loc: f"{dotted(loc)} is required: add it",
    show=_setting_value,
)
"""`ringtest.toml`, `RINGTEST_*` variables and CLI overrides."""


def config_problems(error: ValidationError, origins: Origins, default_label: str) -> list[str]:
    """Every problem of `error`, one line each: ``<source>: <setting> ...: <the fix>``."""
    return [
        f"{origins.label_for(tuple(detail['loc']), default_label)}: "
        f"{describe(detail, SETTINGS_FILE)}"
        for detail in error.errors(include_url=False)
    ]


def config_error(error: ValidationError, origins: Origins, default_label: str) -> ConfigError:
    """One `ConfigError` line for all of `error`'s problems."""
    details = error.errors(include_url=False)
    first = details[0]
    source = origins.label_for(tuple(first["loc"]), default_label)
    line = f"{source}: {describe(first, SETTINGS_FILE)}"
    if len(details) > 1:
        line += f" (and {len(details) - 1} more)"
    return ConfigError(line)
