"""The settings, as one declarative pydantic model per `ringtest.toml` section.

Every model rejects unknown keys. Validators raise `problem` errors (see
`problem`) whose text reads after the setting's path and value, e.g.
``'XX' is not a known country: use one of ...``; `ringtest.config.messages`
turns them into the one-line `ConfigError`. Phone numbers are normalised to
E.164 using the validation context's ``default_region`` (see `loading`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import (
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from ami_listener.lines import FREEPBX_INBOUND_CONTEXTS
from ringtest.config.calendar import CalendarSettings
from ringtest.config.fields import (
    PhoneNumber,
    SecretFile,
    Section,
    SipUri,
    problem,
    read_secret_file,
)
from ringtest.config.history import HistorySettings
from ringtest.config.privacy import PrivacySettings
from ringtest.config.report import PublishSettings, ReportSettings
from ringtest.config.store import StoreSettings
from ringtest.config.web import WebSettings
from ringtest.core.errors import ConfigError
from ringtest.core.standards import GREETING_PHRASES, RING_CADENCE_SECONDS, CallbackRule

_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class AmiSettings(Section):
    """`[ami]`: the Asterisk Manager Interface the listener logs in to.

    The secret comes from `secret` (best from env RINGTEST_AMI__SECRET) or, when
    that is unset, from the file at `secret_file`; it is read when the AMI is used.
    journal_dir: where the listener journals every AMI byte before processing it (None:
        ``journal/`` in the data directory); journal_max_megabytes bounds it.
    inbound_contexts: dialplan contexts where calls from the public arrive; a call from
        one that matches no `[[lines]]` entry is logged and kept as unmatched.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    user: str = "ringtest"
    secret: SecretStr | None = None
    secret_file: SecretFile | None = None
    tls: bool = False
    pbx: str = "pbx"
    ping_interval_seconds: float = Field(default=10.0, gt=0)
    pong_timeout_seconds: float = Field(default=5.0, gt=0)
    journal_dir: Path | None = None
    journal_max_megabytes: int = Field(default=1024, ge=64)
    inbound_contexts: list[str] = Field(default_factory=lambda: list(FREEPBX_INBOUND_CONTEXTS))

    def secret_value(self) -> str:
        """The AMI secret; `ConfigError` when neither `secret` nor `secret_file` is set."""
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_file is not None:
            return read_secret_file(self.secret_file, f"{self.section_name}.secret_file")
        raise ConfigError(self.missing_secret_message())

    @property
    def section_name(self) -> str:
        """Where these settings are written, for messages."""
        return "ami"

    def missing_secret_message(self) -> str:
        return "ami.secret is not set: put it in RINGTEST_AMI__SECRET or ami.secret_file"


class SipAccount(Section):
    """One `[[sip.accounts]]` entry: a SIP identity the ring-test caller uses.

    registrar: SIP URI to register with; None means calls are sent directly.
    register_: setting `register`, whether to register; defaults to true exactly when
        a registrar is set. (`register` itself would shadow `BaseModel.register`.)
    password: from `password`, env RINGTEST_SIP__<NAME>__PASSWORD, or `password_file`.
    caller_id: the caller ID presented, normalised to E.164.
    did_pool: numbers (E.164) that ring this account; each open callback test leaves a
        different one, so a callback is matched to its test exactly.
    callback_message: WAV a callback test leaves as its message; None: a spoken one
        naming the callback number and reference (espeak-ng).
    tls_ca_file: PEM file of the CAs the PBX's TLS certificate must chain to (a
        self-signed PBX: its certificate); None: the system's trust store. TLS only.
    """

    name: str
    user: str
    domain: str
    password: SecretStr | None = None
    password_file: SecretFile | None = None
    registrar: SipUri | None = None
    outbound_proxy: SipUri | None = None
    transport: Literal["udp", "tcp", "tls"] = "udp"
    caller_id: PhoneNumber | None = None
    register_: bool = Field(default=False, alias="register")
    did_pool: list[PhoneNumber] = Field(default_factory=list)
    callback_message: Path | None = None
    tls_ca_file: Path | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _ACCOUNT_NAME.match(name):
            raise problem(
                "is not a usable account name: use letters, digits, - and _ "
                "(it becomes part of RINGTEST_SIP__<NAME>__PASSWORD)"
            )
        return name

    @model_validator(mode="before")
    @classmethod
    def _register_when_registrar(cls, data: Any) -> Any:
        if isinstance(data, dict) and "register" not in data:
            return {**data, "register": data.get("registrar") is not None}
        return data

    @model_validator(mode="after")
    def _registrar_to_register_with(self) -> SipAccount:
        if self.register_ and self.registrar is None:
            raise problem(
                "has register = true but no registrar: set registrar or register = false",
                about_value=False,
            )
        return self

    @model_validator(mode="after")
    def _tls_ca_file_with_tls(self) -> SipAccount:
        if self.tls_ca_file is not None and self.transport != "tls":
            raise problem(
                f"has tls_ca_file but transport {self.transport!r}: "
                'set transport = "tls" or drop tls_ca_file',
                about_value=False,
            )
        return self

    @property
    def env_name(self) -> str:
        """The `<NAME>` of this account's RINGTEST_SIP__<NAME>__<FIELD> variables."""
        return self.name.upper().replace("-", "_")

    def password_value(self) -> str | None:
        """The SIP password, or None when the account is configured without one."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return read_secret_file(self.password_file, f"sip.accounts '{self.name}' password_file")
        return None


class SipSettings(Section):
    """`[sip]`: the accounts the SIP ring-test caller may place calls from."""

    accounts: list[SipAccount] = Field(default_factory=list)

    @field_validator("accounts")
    @classmethod
    def _distinct_names(cls, accounts: list[SipAccount]) -> list[SipAccount]:
        seen: set[str] = set()
        for account in accounts:
            if account.env_name in seen:
                raise problem(
                    f"name {account.name!r} is used by two accounts: give each its own name",
                    about_value=False,
                )
            seen.add(account.env_name)
        return accounts


class Line(Section):
    """One `[[lines]]` entry: a monitored line, by exactly one of number, extension or queue.

    number: a DDI the public dials, normalised to E.164.
    department: who answers it, as reported.
    outbound_caller_ids: numbers (E.164) the line's staff call out from, so a callback
        from one is matched to a callback test of this line.
    contexts: dialplan contexts only this line's calls run in (its IVR's), by which the
        CDR import finds its calls.
    devices: devices only this line's calls ring, as ``Dial`` names them
        (``PJSIP/staff8``), by which the CDR import finds its calls.
    announce: what its staff say to announce the line (the greeting audit listens
        for any of them); empty: its department name.
    """

    number: PhoneNumber | None = None
    extension: str | None = None
    queue: str | None = None
    department: str = Field(min_length=1)
    name: str | None = None
    outbound_caller_ids: list[PhoneNumber] = Field(default_factory=list)
    contexts: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)
    announce: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _exactly_one_target(self) -> Line:
        given = [key for key in ("number", "extension", "queue") if getattr(self, key) is not None]
        if len(given) != 1:
            what = " and ".join(given) if given else "none of number, extension or queue"
            verb = "sets both" if given else "sets"
            raise problem(
                f"{verb} {what}: give exactly one of number, extension or queue",
                about_value=False,
            )
        return self

    @property
    def target(self) -> str:
        """The number, extension or queue this line is."""
        return self.number or self.extension or self.queue or ""


def _each_target_once(lines: list[Line]) -> list[Line]:
    """`lines`, when no number, extension or queue is in two of them."""
    first_of: dict[tuple[str, str], Line] = {}
    for line in lines:
        kind = "number" if line.number else "extension" if line.extension else "queue"
        first = first_of.setdefault((kind, line.target), line)
        if first is not line:
            raise problem(
                f"has {kind} {line.target!r} twice (departments {first.department!r} and "
                f"{line.department!r}): keep one [[lines]] entry for it, with the "
                "department that answers it",
                about_value=False,
            )
    return lines


class PbxSettings(AmiSettings):
    """One `[[pbx]]` entry: a PBX of several, its AMI connection and its lines.

    name: the PBX's label on every record (as `ami.pbx` for one PBX); unique.
    lines: its monitored lines (``[[pbx.lines]]``), as `[[lines]]` for one PBX; a line
        is identified by (pbx, line), so two PBXs may both have an extension 2001.
    organisation: PBXs with the same organisation share callback obligations: a call
        back placed from any of them closes a call missed on another. A shared-service
        provider gives each council's PBXs their own, to keep the councils apart.
    history: this PBX's CDR/CEL files its coverage gaps are filled from
        (``[pbx.history]``, as `[history]` for one PBX).
    """

    name: str = Field(min_length=1)
    lines: list[Line] = Field(default_factory=list)
    organisation: str = "council"
    history: HistorySettings = Field(default_factory=HistorySettings)

    @model_validator(mode="before")
    @classmethod
    def _name_is_the_pbx_label(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "pbx" in data:
            raise problem("sets pbx: a [[pbx]] entry is labelled by its name", about_value=False)
        return {**data, "pbx": data.get("name", "")}

    @field_validator("lines")
    @classmethod
    def _each_line_once(cls, lines: list[Line]) -> list[Line]:
        return _each_target_once(lines)

    @property
    def section_name(self) -> str:
        return f"pbx {self.name!r}"

    def missing_secret_message(self) -> str:
        return (
            f"the secret of pbx {self.name!r} is not set: give it secret_file "
            "(a file of mode 0600 holding the AMI secret) or secret"
        )


MAX_ANSWER_WITHIN_RINGS = 30
"""The most rings `standards.answer_within_rings` may allow (90 s at the UK's 3 s a ring);
more is a unit mistake (milliseconds, seconds), not a standard."""


class StandardsSettings(Section):
    """`[standards]`: the answering and callback standards audited.

    ring_cadence: country whose ringing cadence callers hear (a key of
        `RING_CADENCE_SECONDS`); seconds_per_ring, when set, overrides it.
    test_caller_ids: caller IDs of our own ring tests, normalised to E.164.
    greeting_phrases: what counts as greeting the caller (the greeting audit).
    """

    answer_within_rings: int = Field(default=7, ge=1)
    ring_cadence: str = "GB"
    seconds_per_ring: float | None = Field(default=None, gt=0)
    callback_within_working_days: int = Field(default=1, ge=1)
    callback_rule: CallbackRule = CallbackRule.WORKING_HOURS
    test_caller_ids: list[PhoneNumber] = Field(default_factory=list)
    greeting_phrases: list[str] = Field(default_factory=lambda: list(GREETING_PHRASES))

    @field_validator("answer_within_rings")
    @classmethod
    def _sane_rings(cls, rings: int) -> int:
        if rings > MAX_ANSWER_WITHIN_RINGS:
            raise problem(
                f"is more than {MAX_ANSWER_WITHIN_RINGS} rings (over a minute and a half of "
                "ringing): it counts rings, not milliseconds or seconds; councils use 3 to 7"
            )
        return rings

    @field_validator("ring_cadence")
    @classmethod
    def _known_cadence(cls, country: str) -> str:
        if country.upper() not in RING_CADENCE_SECONDS:
            raise problem(
                f"is not a known country: use one of {', '.join(sorted(RING_CADENCE_SECONDS))} "
                "or set standards.seconds_per_ring"
            )
        return country.upper()


class PhoneSettings(Section):
    """`[phone]`: how phone numbers without a country code are read."""

    default_region: str = "GB"

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise problem("is not a region phonenumbers knows: use an ISO 3166 code such as GB")
        return region.upper()


class Settings(Section):
    """All of ringtest's settings; build with `ringtest.config.load_settings`."""

    ami: AmiSettings = Field(default_factory=AmiSettings)
    sip: SipSettings = Field(default_factory=SipSettings)
    pbx: list[PbxSettings] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    standards: StandardsSettings = Field(default_factory=StandardsSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    phone: PhoneSettings = Field(default_factory=PhoneSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @model_validator(mode="before")
    @classmethod
    def _ami_is_every_pbx_default(cls, data: Any) -> Any:
        """With `[[pbx]]`, what `[ami]` sets (a user, the journal's place...) is the default
        of every entry (its `pbx` label is not); `[[lines]]` and `[history]` belong in
        the entries."""
        if not isinstance(data, dict) or not isinstance(data.get("pbx"), list) or not data["pbx"]:
            return data
        if data.get("lines") or data.get("history"):
            raise problem(
                "[[pbx]] and top-level [[lines]] or [history] are both set: for several PBXs "
                "put each line and history file in its PBX's entry ([[pbx.lines]], "
                "[pbx.history]); for one, leave out [[pbx]]",
                about_value=False,
            )
        ami = data.get("ami")
        shared = {k: v for k, v in ami.items() if k != "pbx"} if isinstance(ami, dict) else {}
        entries = [
            {**shared, **entry} if isinstance(entry, dict) else entry for entry in data["pbx"]
        ]
        return {**data, "pbx": entries}

    @field_validator("lines")
    @classmethod
    def _each_line_once(cls, lines: list[Line]) -> list[Line]:
        return _each_target_once(lines)

    @model_validator(mode="after")
    def _lines_of_every_pbx(self) -> Settings:
        """With `[[pbx]]`, each name once, and `lines` is every entry's lines (for reports,
        campaigns and metrics; each entry checked its own for duplicates)."""
        names = [pbx.name for pbx in self.pbx]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise problem(
                f"two [[pbx]] entries are named {twice[0]!r}: give each its own name",
                about_value=False,
            )
        if self.pbx:
            # The settings are frozen once validated; this is the last step of validating.
            object.__setattr__(self, "lines", [line for pbx in self.pbx for line in pbx.lines])
        return self

    def pbx_views(self) -> list[Settings]:
        """One `Settings` per PBX, whose `ami` and `lines` are that PBX's (a listener's,
        an import's view); just these settings when `[ami]` names the only PBX."""
        if not self.pbx:
            return [self]
        return [
            self.model_copy(update={"ami": pbx, "lines": pbx.lines, "history": pbx.history})
            for pbx in self.pbx
        ]

    def pbx_names(self) -> list[str]:
        """The label of every configured PBX."""
        return [view.ami.pbx for view in self.pbx_views()]

    def pbx_view(self, name: str) -> Settings:
        """The view of the PBX called `name`; `ConfigError` naming the known ones."""
        for view in self.pbx_views():
            if view.ami.pbx == name:
                return view
        known = ", ".join(view.ami.pbx for view in self.pbx_views())
        raise ConfigError(f"no PBX is named {name!r}: use one of {known}")

    def organisation_of(self, pbx: str) -> str:
        """The organisation whose callback obligations PBX `pbx`'s calls share."""
        return next((entry.organisation for entry in self.pbx if entry.name == pbx), "council")

    def ami_secret(self) -> str:
        """The AMI secret; `ConfigError` naming where to put it when it is not set."""
        return self.ami.secret_value()

    def store_url(self) -> str | None:
        """The store's SQLAlchemy URL (with `store.password_file`'s password), or None for
        the embedded SQLite default."""
        return self.store.url_value()

    def sip_account(self, name: str) -> SipAccount:
        """The `[[sip.accounts]]` entry called `name`; `ConfigError` when there is none."""
        for account in self.sip.accounts:
            if account.name == name:
                return account
        known = ", ".join(account.name for account in self.sip.accounts) or "none configured"
        raise ConfigError(f"no SIP account is named {name!r}: use one of sip.accounts ({known})")
