"""Building blocks of the settings models: the section base, one-line problems, and
the validated field types (phone numbers, SIP URIs, secret files, opening hours).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import phonenumbers
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


OFCOM_DRAMA_RANGES = (
    "+441134960",
    "+441144960",
    "+441154960",
    "+441164960",
    "+441174960",
    "+441184960",
    "+441214960",
    "+441314960",
    "+441414960",
    "+441514960",
    "+441614960",
    "+441914980",
    "+442079460",
    "+44289649",
    "+442920180",
    "+441632960",
    "+447700900",
    "+448081570",
    "+449098790",
    "+443069990",
)
"""E.164 prefixes of Ofcom's numbers for drama (``01632 960000``-``960999`` and the like):
never allocated, so phonenumbers calls some of them invalid, yet the lab and examples
use them. A 12-digit number under one of these is accepted."""

_LETTERS = re.compile(r"[A-Za-z]")


def _e164(number: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get("default_region", "GB")
    if _LETTERS.search(number):
        raise problem(
            "has letters: phone keypad words are dialled as digits, so write the "
            "number in digits, e.g. 0800 268 6245 for 0800 COUNCIL"
        )
    try:
        e164 = normalise_number(number, region)
    except ValueError:
        raise problem(
            f"is not a valid phone number for region {region}: "
            "write it in E.164, e.g. +442079460000"
        ) from None
    drama = len(e164) == 13 and e164.startswith(OFCOM_DRAMA_RANGES)
    if not drama and not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        raise problem(
            f"is not a number in use ({e164}: the wrong number of digits for its area "
            "code, or a range never allocated): check the digits against the number "
            "the public dials"
        )
    return e164


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
