"""Validation errors, turned into the one line a user reads.

The line is ``<source>: <setting> <value> <what is wrong>: <the fix>``, where
<source> is the file or variable the value came from, e.g.
``ringtest.toml: ami.port 'abc' is not a whole number: write digits without quotes``.
When validation finds several errors, the first is shown and the rest counted:
`` (and 2 more)``. Secret values, tables and lists are never echoed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ringtest.config.fields import SETTING_PROBLEM, VALUE_PROBLEM
from ringtest.config.models import Settings
from ringtest.config.sources import Origins, model_in
from ringtest.errors import ConfigError

SECRET_KEYS = frozenset({"secret", "password", "url"})
"""Keys whose values are never shown in an error (url: a store URL may hold a password)."""
_MAX_VALUE_CHARS = 60
_SHOWN_TYPES = (str, int, float, date)
"""Values shown in errors; tables and lists are not, as they may hold secrets."""

_PROBLEMS: dict[str, str] = {
    "int_parsing": "is not a whole number: write digits without quotes",
    "int_type": "is not a whole number: write digits without quotes",
    "int_from_float": "is not a whole number: leave out the decimals",
    "float_parsing": "is not a number: write it without quotes, e.g. 3.0",
    "float_type": "is not a number: write it without quotes, e.g. 3.0",
    "bool_parsing": "is not true or false: write true or false",
    "bool_type": "is not true or false: write true or false",
    "string_type": 'is not text: write it in quotes, e.g. "value"',
    "path_type": 'is not a file path: write it in quotes, e.g. "/etc/ringtest/secret"',
    "list_type": "is not a list: write it as [ ... ], or as [[...]] tables",
    "model_type": "is not a table: write it as a [section] (a JSON object in a variable)",
    "dict_type": "is not a table: write it as a [section] (a JSON object in a variable)",
    "date_type": "is not a date: write it as YYYY-MM-DD",
    "date_parsing": "is not a date: write it as YYYY-MM-DD",
    "date_from_datetime_parsing": "is not a date: write it as YYYY-MM-DD",
    "date_from_datetime_inexact": "is not a date: write it as YYYY-MM-DD, without a time",
    "greater_than": "is too small: use a number more than {gt:g}",
    "greater_than_equal": "is too small: use {ge:g} or more",
    "less_than_equal": "is too large: use {le:g} or less",
    "string_too_short": "is empty: write some text",
    "literal_error": "is not a valid choice: use {expected}",
    "enum": "is not a valid choice: use {expected}",
}


def config_error(error: ValidationError, origins: Origins, default_label: str) -> ConfigError:
    """One `ConfigError` line for all of `error`'s problems."""
    details = error.errors(include_url=False)
    line = _describe(details[0], origins, default_label)
    if len(details) > 1:
        line += f" (and {len(details) - 1} more)"
    return ConfigError(line)


def _describe(detail: ErrorDetails, origins: Origins, default_label: str) -> str:
    loc = tuple(detail["loc"])
    source = origins.label_for(loc, default_label)
    kind = detail["type"]
    if kind == "extra_forbidden":
        known = ", ".join(
            field.alias or name for name, field in _model_at(loc[:-1]).model_fields.items()
        )
        return f"{source}: unknown setting '{dotted(loc)}': check the spelling (known: {known})"
    if kind == "missing":
        return f"{source}: {dotted(loc)} is required: add it"
    context = detail.get("ctx") or {}
    if kind in (VALUE_PROBLEM, SETTING_PROBLEM):
        text = context["text"]
    else:
        text = _PROBLEMS.get(kind, "is not valid ({msg}): see Configuration in README.md")
        text = text.format(msg=detail["msg"].lower(), **context)
    value = detail["input"]
    if kind == SETTING_PROBLEM or _is_secret(loc) or not isinstance(value, _SHOWN_TYPES):
        return f"{source}: {dotted(loc)} {text}"
    return f"{source}: {dotted(loc)} {_show(value)} {text}"


def dotted(loc: tuple[Any, ...]) -> str:
    """A setting's path as written in errors: ``ami.port``, ``lines[0].number``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, str) and part in model.model_fields:
            model = model_in(model.model_fields[part].annotation) or model
    return model


def _is_secret(loc: tuple[Any, ...]) -> bool:
    return any(part in SECRET_KEYS for part in loc)


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."
