"""`[calendar]`: the service's opening hours and public holidays, as one pydantic model."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, ValidationInfo, field_validator, model_validator

from ringtest.config.fields import OpeningHours, Section, problem
from ringtest.core.calendar import CLOSED, DEFAULT_OPENING_HOURS, WEEKDAYS

DEFAULT_SUBDIVISIONS = {"GB": "ENG"}
"""Where a country's nations keep different bank holidays, the one assumed when the
config names none: GB alone would leave out Easter Monday and the August bank holiday."""


class CalendarSettings(Section):
    """`[calendar]`: when the service is open, in its local time.

    mon .. sun: opening hours, ``"09:00-17:00"``, ``"09:00-12:30, 13:30-17:00"`` or ``"closed"``.
    country, subdivision: whose public holidays close the service (`holidays` package codes);
    no subdivision: `DEFAULT_SUBDIVISIONS` for the country, if any.
    """

    timezone: str = "Europe/London"
    country: str = "GB"
    subdivision: str | None = None
    mon: OpeningHours = DEFAULT_OPENING_HOURS["mon"]
    tue: OpeningHours = DEFAULT_OPENING_HOURS["tue"]
    wed: OpeningHours = DEFAULT_OPENING_HOURS["wed"]
    thu: OpeningHours = DEFAULT_OPENING_HOURS["thu"]
    fri: OpeningHours = DEFAULT_OPENING_HOURS["fri"]
    sat: OpeningHours = DEFAULT_OPENING_HOURS["sat"]
    sun: OpeningHours = DEFAULT_OPENING_HOURS["sun"]
    extra_closed_dates: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise problem(
                "is not a known IANA time zone: use a name like Europe/London or America/New_York"
            ) from None
        return name

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        if country.upper() not in holidays.list_supported_countries():
            raise problem(
                "is not a country the holidays package knows: use an ISO 3166 code such as GB"
            )
        return country.upper()

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if subdivision is None or country is None:
            return subdivision
        known = holidays.list_supported_countries()[country]
        if subdivision.upper() not in known:
            choices = ", ".join(known) if known else "none: leave it out"
            raise problem(f"is not a subdivision of {country}: use one of {choices}")
        return subdivision.upper()

    @model_validator(mode="before")
    @classmethod
    def _default_subdivision(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("subdivision") is not None:
            return data
        country = str(data.get("country", cls.model_fields["country"].default)).upper()
        return {**data, "subdivision": DEFAULT_SUBDIVISIONS.get(country)}

    @model_validator(mode="after")
    def _open_some_day(self) -> CalendarSettings:
        if all(text == CLOSED for text in self.opening_hours().values()):
            raise problem(
                "is closed every day of the week: "
                'give at least one day opening hours, e.g. mon = "09:00-17:00"',
                about_value=False,
            )
        return self

    def opening_hours(self) -> dict[str, str]:
        """Weekday key (``"mon"`` .. ``"sun"``) to its opening hours text."""
        return {weekday: getattr(self, weekday) for weekday in WEEKDAYS}
