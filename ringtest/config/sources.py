"""Where settings come from: the TOML file, `RINGTEST_*` variables and CLI overrides.

Each source is turned into a nested dict and merged over the previous ones, in
order of precedence (later wins): file, then environment, then overrides.
Tables merge key by key; any other value (lists included) replaces the earlier
one whole. `Origins` remembers which source set each key, so an error names
the file or variable the bad value came from.

Environment variables: ``RINGTEST_<SECTION>__<KEY>`` (``__`` between levels,
any case), e.g. ``RINGTEST_AMI__HOST``; a list or table is written as JSON
(``RINGTEST_LINES='[{"number": "+441632960000", "department": "Housing"}]'``).
``RINGTEST_SIP__<NAME>__<KEY>`` sets a key of the SIP account called <name>
(``-`` in the name becomes ``_``). ``RINGTEST_DB`` is another name for
``RINGTEST_STORE__URL``. Empty variables count as unset. Variables whose first
part is not a section (``RINGTEST_CONFIG``, ``RINGTEST_TEST_PG_URL``) are not
settings and are left alone.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from ringtest.config.models import Settings
from ringtest.core.errors import ConfigError

ENV_PREFIX = "RINGTEST_"
STORE_URL_ALIAS = "RINGTEST_DB"
OVERRIDES_LABEL = "command line"
RELATIVE_TO_FILE = (
    ("ami", "secret_file"),
    ("pbx", "*", "secret_file"),
    ("sip", "accounts", "*", "password_file"),
    ("sip", "accounts", "*", "callback_message"),
    ("sip", "accounts", "*", "tls_ca_file"),
    ("report", "smtp", "password_file"),
    ("report", "output_dir"),
    ("store", "password_file"),
    ("web", "token_file"),
)
"""Paths in the file that name files, read relative to the file's own directory."""

SettingPath = tuple[str | int, ...]
_TOML_POSITION = re.compile(
    r"^(?P<detail>.*) \(at (?P<where>line \d+, column \d+|end of document)\)$"
)


class Origins(dict[SettingPath, str]):
    """Setting path -> label of the source that set it (file name or variable name)."""

    def label_for(self, path: SettingPath, default: str) -> str:
        """The source of `path` or of the nearest table or list above it."""
        for length in range(len(path), 0, -1):
            if path[:length] in self:
                return self[path[:length]]
        return default

    def record(self, path: SettingPath, label: str) -> None:
        for known in [known for known in self if known[: len(path)] == path]:
            del self[known]
        self[path] = label


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at `path`, with its relative file paths resolved."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{label}: no such file: check the path given to --config or RINGTEST_CONFIG"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not UTF-8 text: save it as UTF-8") from None
    except OSError as error:
        raise ConfigError(
            f"{label}: cannot be read ({error.strerror}): check the path and its permissions"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{label}: {_describe_toml_error(str(error))}") from None
    for pattern in RELATIVE_TO_FILE:
        _resolve_paths(data, pattern, path.parent)
    return data


def _describe_toml_error(message: str) -> str:
    match = _TOML_POSITION.match(message)
    if match is None:
        return f"invalid TOML ({message}): fix the syntax"
    detail = match["detail"][:1].lower() + match["detail"][1:]
    where = match["where"].replace("end of document", "the end of the file")
    return f"invalid TOML at {where} ({detail}): fix the syntax there"


def _resolve_paths(data: Any, pattern: tuple[str, ...], base: Path) -> None:
    head, *rest = pattern
    if head == "*" and isinstance(data, list):
        for item in data:
            _resolve_paths(item, tuple(rest), base)
    elif isinstance(data, dict) and head in data:
        if rest:
            _resolve_paths(data[head], tuple(rest), base)
        elif isinstance(data[head], str) and not Path(data[head]).is_absolute():
            data[head] = str(base / data[head])


def merge(merged: dict[str, Any], layer: Mapping[str, Any], label: str, origins: Origins) -> None:
    """Merge nested `layer` over `merged` in place, recording `label` as each key's origin."""
    _merge_at(merged, layer, (), label, origins)


def _merge_at(
    into: dict[str, Any],
    layer: Mapping[str, Any],
    prefix: SettingPath,
    label: str,
    origins: Origins,
) -> None:
    for key, value in layer.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge_at(into[key], value, path, label, origins)
        else:
            into[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
            origins.record(path, label)


def nest_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """CLI overrides as a nested dict: dotted keys (``"ami.port"``) become nested tables."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        table = nested
        for part in parents:
            table = table.setdefault(part, {})
        if isinstance(value, Mapping) and isinstance(table.get(leaf), dict):
            table[leaf].update(nest_overrides(value))
        else:
            table[leaf] = nest_overrides(value) if isinstance(value, Mapping) else value
    return nested


def apply_environment(merged: dict[str, Any], environ: Mapping[str, str], origins: Origins) -> None:
    """Merge the `RINGTEST_*` settings in `environ` over `merged` in place."""
    variables = {name: value for name, value in environ.items() if value.strip()}
    if STORE_URL_ALIAS in variables and "RINGTEST_STORE__URL" in variables:
        raise ConfigError(
            f"{STORE_URL_ALIAS} and RINGTEST_STORE__URL are both set: unset one of them"
        )
    if STORE_URL_ALIAS in variables:
        merge(merged, {"store": {"url": variables[STORE_URL_ALIAS]}}, STORE_URL_ALIAS, origins)
    per_account: list[tuple[str, str, str, str]] = []
    for name in sorted(variables):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if parts[0] not in Settings.model_fields or not all(parts):
            continue
        if parts[0] == "sip" and len(parts) == 3:
            per_account.append((name, parts[1], parts[2], variables[name]))
            continue
        value = _env_value(name, parts, variables[name])
        layer: Any = value
        for part in reversed(parts):
            layer = {part: layer}
        merge(merged, layer, name, origins)
    for name, account_name, key, value in per_account:
        _apply_account_variable(merged, name, account_name, key, value, origins)


def _env_value(name: str, path: list[str], text: str) -> Any:
    """`text` as JSON when `path` is a list or table setting, else the string itself."""
    if not _is_structured(path):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{name}: not valid JSON ({error.msg} at column {error.colno}): "
            "write the list or table as JSON"
        ) from None


def _is_structured(path: list[str]) -> bool:
    model: type[BaseModel] = Settings
    annotation: Any = None
    for part in path:
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        inner = model_in(annotation)
        if inner is None:
            break
        model = inner
    is_table = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return is_table or get_origin(annotation) is list


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (directly, in a list, or optionally), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = model_in(argument)
        if found is not None:
            return found
    return None


def _apply_account_variable(
    merged: dict[str, Any], name: str, account_name: str, key: str, value: str, origins: Origins
) -> None:
    accounts = merged.get("sip", {}).get("accounts", [])
    if not isinstance(accounts, list):
        return
    names = [account.get("name") for account in accounts if isinstance(account, dict)]
    for index, account in enumerate(accounts):
        if isinstance(account, dict) and _env_form(account.get("name")) == account_name:
            account[key] = value
            origins.record(("sip", "accounts", index, key), name)
            return
    known = ", ".join(str(known) for known in names) or "none configured"
    raise ConfigError(
        f"{name}: no SIP account is named {account_name!r}: name one of sip.accounts ({known})"
    )


def _env_form(account_name: Any) -> str:
    return str(account_name).lower().replace("-", "_")
