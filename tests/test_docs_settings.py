"""The README's configuration reference mentions every setting and its variable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from ringtest.config import Settings
from ringtest.config.models import Line, SipAccount

README = Path(__file__).resolve().parent.parent / "README.md"
REFERENCE = re.compile(
    r"<!-- config-reference:start -->(.*)<!-- config-reference:end -->", re.DOTALL
)


def reference_text() -> str:
    match = REFERENCE.search(README.read_text(encoding="utf-8"))
    assert match is not None, "README.md lost its config-reference markers"
    return match.group(1)


def model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = model_of(argument)
        if found is not None:
            return found
    return None


def setting_paths(
    model: type[BaseModel] = Settings, prefix: str = ""
) -> Iterator[tuple[str, bool]]:
    """(dotted path, whether it sits inside a list) of every leaf setting, lists undotted."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        inner = model_of(field.annotation)
        if inner is None:
            yield path, False
        else:
            in_list = get_origin(field.annotation) is list
            for child, child_in_list in setting_paths(inner, f"{path}."):
                yield child, in_list or child_in_list


SETTINGS = sorted(setting_paths())


def test_the_walk_finds_settings_in_sections_and_lists() -> None:
    paths = {path for path, _ in SETTINGS}
    assert {"ami.host", "standards.ring_cadence", "sip.accounts.caller_id", "lines.number"} <= paths
    assert {f"lines.{name}" for name in Line.model_fields} <= paths
    assert {
        f"sip.accounts.{field.alias or name}" for name, field in SipAccount.model_fields.items()
    } <= paths


@pytest.mark.parametrize("path", [path for path, _ in SETTINGS])
def test_the_readme_mentions_every_setting(path: str) -> None:
    assert f"`{path}`" in reference_text(), f"README.md does not document {path}"


@pytest.mark.parametrize("path", [path for path, in_list in SETTINGS if not in_list])
def test_the_readme_names_every_settings_variable(path: str) -> None:
    variable = "RINGTEST_" + path.upper().replace(".", "__")
    assert variable in reference_text(), f"README.md does not name {variable}"


@pytest.mark.parametrize(
    "variable",
    ["RINGTEST_CONFIG", "RINGTEST_DB", "RINGTEST_LINES", "RINGTEST_SIP__<NAME>__PASSWORD"],
)
def test_the_readme_names_the_special_variables(variable: str) -> None:
    assert variable in reference_text()
