"""`[report]`, `[report.smtp]` and `[publish]`: the weekly report managers receive,
how it is mailed, and the public page citizens see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr

from ringtest.config.fields import SecretFile, Section, problem, read_secret_file

_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _clock_time(text: str) -> str:
    if not _CLOCK_TIME.match(text):
        raise problem('is not a time of day: write it as HH:MM, e.g. "08:00"')
    return text


def _email_address(text: str) -> str:
    if not _EMAIL.match(text):
        raise problem("is not an email address: write it like performance@council.example")
    return text


EmailAddress = Annotated[str, AfterValidator(_email_address)]


class SmtpSettings(Section):
    """`[report.smtp]`: the mail server the weekly report is sent through.

    password: from `password` (best env RINGTEST_REPORT__SMTP__PASSWORD) or, when
    that is unset, the file at `password_file`; None with no user means no login.
    allow_plaintext_auth: log in (AUTH) even without STARTTLS, sending the password
        in clear; off by default, so a login without TLS is refused before connecting.
    """

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    user: str | None = None
    password: SecretStr | None = None
    password_file: SecretFile | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    allow_plaintext_auth: bool = False

    def password_value(self) -> str | None:
        """The SMTP password, or None when none is configured."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return read_secret_file(self.password_file, "report.smtp.password_file")
        return None


class ReportSettings(Section):
    """`[report]`: the weekly report managers receive and the figures in it.

    target_percent: float, the share of calls (0-100 %) a department aims to answer
        within the standard; drawn as the target line on the charts.
    short_abandon_seconds: float, callers who hang up within this many seconds of
        ringing are left out of the inclusive rate (they gave up before anyone could answer).
    schedule_day, schedule_time: when the campaign daemon sends the weekly report,
        in the calendar's local time (default Monday 08:00).
    output_dir: where `ringtest report` writes without --out; None means
        `reports/` in the platform data directory.
    """

    recipients: list[EmailAddress] = Field(default_factory=list)
    sender: EmailAddress = "ringtest@localhost"
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    target_percent: float = Field(default=90.0, ge=0, le=100)
    short_abandon_seconds: float = Field(default=5.0, ge=0)
    schedule_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    schedule_time: Annotated[str, AfterValidator(_clock_time)] = "08:00"
    output_dir: Path | None = None


class PublishSettings(Section):
    """`[publish]`: the public page `ringtest publish` writes.

    min_count: int, the smallest count of calls (or of missed calls owed a
        callback) a department's row shows; a smaller count, and every percentage
        computed from it, is shown as "fewer than <min_count>", so that no caller's
        single call can be recognised on the page.
    show_announced_name: bool, whether the page has the column of mystery calls in which
        the answerer announced our name (the greeting audit's machine verdict, so off
        until the council chooses to publish it).
    """

    min_count: int = Field(default=5, ge=1)
    show_announced_name: bool = False
