"""Building blocks of the settings models: the section base, one-line problems, and
the validated field types (phone numbers, SIP URIs, secret files, opening hours).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from ringtest.core.calendar import (
    format_opening_hours,
    parse_opening_hours,
)
from ringtest.core.errors import ConfigError
from ringtest.core.standards import normalise_number

VALUE_PROBLEM = "ringtest_value"
"""Error type whose message follows the setting's path and value."""
SETTING_PROBLEM = "ringtest_setting"
"""Error type whose message follows the setting's path alone."""


def problem(text: str, *, about_value: bool = True) -> PydanticCustomError:
    """A validation error whose whole text is `text` ("what is wrong: the fix")."""
    kind = VALUE_PROBLEM if about_value else SETTING_PROBLEM
    return PydanticCustomError(kind, "{text}", {"text": text})


def _read_text(path: Path) -> str:
    """The stripped UTF-8 text of `path`; `ValueError` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except OSError as error:
        raise ValueError(error.strerror or type(error).__name__) from None


def read_secret_file(path: Path, setting: str) -> str:
    try:
        return _read_text(path)
    except ValueError as error:
        raise ConfigError(
            f"{setting} '{path}' cannot be read ({error}): check the path and its permissions"
        ) from None


def _check_secret_file(path: Path) -> Path:
    try:
        _read_text(path)
    except ValueError as error:
        raise problem(f"cannot be read ({error}): check the path and its permissions") from None
    return path


def _e164(number: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get("default_region", "GB")
    try:
        return normalise_number(number, region)
    except ValueError:
        raise problem(
            f"is not a valid phone number for region {region}: "
            "write it in E.164, e.g. +442079460000"
        ) from None


def _sip_uri(value: str) -> str:
    if not value.startswith(("sip:", "sips:")):
        raise problem("is not a SIP URI: write it like sip:pbx.example.org")
    return value


def _opening_hours(text: str) -> str:
    try:
        return format_opening_hours(parse_opening_hours(text))
    except ValueError as error:
        raise problem(str(error)) from None


PhoneNumber = Annotated[str, AfterValidator(_e164)]
"""A phone number, normalised to E.164 with the context's ``default_region``."""
SipUri = Annotated[str, AfterValidator(_sip_uri)]
SecretFile = Annotated[Path, AfterValidator(_check_secret_file)]
"""A readable file holding one secret (surrounding whitespace is dropped)."""
OpeningHours = Annotated[str, AfterValidator(_opening_hours)]


class Section(BaseModel):
    """A settings table: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)
