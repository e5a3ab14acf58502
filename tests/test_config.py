"""Settings: defaults, precedence (file -> environment -> overrides), and every error line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ringtest.config import Settings, load_settings
from ringtest.config.adapters import standards_of
from ringtest.core.errors import ConfigError
from ringtest.core.standards import CallbackRule

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ringtest.toml"
NO_ENVIRONMENT: dict[str, str] = {}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory, so error lines name `ringtest.toml` as written."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(directory: Path, text: str) -> Path:
    path = directory / "ringtest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(text: str | None = None, **kwargs: object) -> str:
    """The one line `load_settings` fails with, for config file `text` in the cwd."""
    if text is not None:
        write_config(Path.cwd(), text)
        kwargs.setdefault("path", "ringtest.toml")
    kwargs.setdefault("environ", NO_ENVIRONMENT)
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


# Defaults


def test_a_fresh_install_loads_with_defaults() -> None:
    settings = load_settings(environ=NO_ENVIRONMENT)
    assert (settings.ami.host, settings.ami.port, settings.ami.tls) == ("127.0.0.1", 5038, False)
    assert settings.ami.pbx == "pbx"
    assert (settings.ami.ping_interval_seconds, settings.ami.pong_timeout_seconds) == (10.0, 5.0)
    assert settings.sip.accounts == []
    assert settings.lines == []
    assert settings.standards.answer_within_rings == 7
    assert settings.standards.ring_cadence == "GB"
    assert settings.standards.callback_within_working_days == 1
    assert settings.standards.callback_rule is CallbackRule.WORKING_HOURS
    assert settings.calendar.timezone == "Europe/London"
    assert settings.calendar.opening_hours() == {
        "mon": "09:00-17:00",
        "tue": "09:00-17:00",
        "wed": "09:00-17:00",
        "thu": "09:00-17:00",
        "fri": "09:00-17:00",
        "sat": "closed",
        "sun": "closed",
    }
    assert settings.store_url() is None
    assert settings.phone.default_region == "GB"


def test_a_gb_calendar_without_a_subdivision_keeps_englands_bank_holidays() -> None:
    calendar = standards_of(load_settings(environ=NO_ENVIRONMENT)).calendar
    easter_monday, august_bank_holiday = date(2026, 4, 6), date(2026, 8, 31)
    assert not calendar.is_working_day(easter_monday)
    assert not calendar.is_working_day(august_bank_holiday)
    assert calendar.is_working_day(date(2026, 8, 28))


def test_a_scottish_council_names_its_nation_and_gets_its_holidays(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[calendar]\nsubdivision = "SCT"\n')
    calendar = standards_of(load_settings(path, environ=NO_ENVIRONMENT)).calendar
    assert not calendar.is_working_day(date(2026, 8, 3))  # Scotland's summer bank holiday
    assert calendar.is_working_day(date(2026, 8, 31))  # England's, a working day in Scotland


def test_the_ami_secret_is_only_demanded_when_the_ami_is_used() -> None:
    settings = load_settings(environ=NO_ENVIRONMENT)
    with pytest.raises(ConfigError) as caught:
        settings.ami_secret()
    assert str(caught.value) == (
        "ami.secret is not set: put it in RINGTEST_AMI__SECRET or ami.secret_file"
    )


def test_the_example_config_loads() -> None:
    settings = load_settings(EXAMPLE, environ={"RINGTEST_SIP__LAB__PASSWORD": "s3cret"})
    assert settings.ami.pbx == "civic-centre"
    assert [line.target for line in settings.lines] == ["+442079460000", "council-tax", "2100"]
    assert settings.sip_account("lab").register_ is True
    assert settings.sip_account("direct").register_ is False
    assert settings.sip_account("lab").password_value() == "s3cret"
    assert settings.calendar.extra_closed_dates == [date(2026, 12, 24), date(2026, 12, 31)]


# Precedence


def test_precedence_is_file_then_environment_then_overrides(in_tmp: Path) -> None:
    write_config(in_tmp, '[ami]\nhost = "file-host"\nport = 5039\nuser = "file-user"\n')
    environ = {"RINGTEST_AMI__HOST": "env-host", "RINGTEST_AMI__PORT": "5040"}
    settings = load_settings("ringtest.toml", overrides={"ami.port": 5041}, environ=environ)
    assert (settings.ami.user, settings.ami.host, settings.ami.port) == (
        "file-user",
        "env-host",
        5041,
    )


def test_overrides_may_be_nested_tables(in_tmp: Path) -> None:
    write_config(in_tmp, "[standards]\nanswer_within_rings = 5\ncallback_within_working_days = 2\n")
    settings = load_settings(
        "ringtest.toml", overrides={"standards": {"answer_within_rings": 4}}, environ={}
    )
    assert settings.standards.answer_within_rings == 4
    assert settings.standards.callback_within_working_days == 2


def test_ringtest_config_names_the_file(in_tmp: Path) -> None:
    write_config(in_tmp, '[ami]\npbx = "town-hall"\n')
    settings = load_settings(environ={"RINGTEST_CONFIG": "ringtest.toml"})
    assert settings.ami.pbx == "town-hall"


def test_ringtest_db_is_the_store_url() -> None:
    settings = load_settings(environ={"RINGTEST_DB": "sqlite:////tmp/calls.db"})
    assert settings.store_url() == "sqlite:////tmp/calls.db"


def test_lists_come_from_the_environment_as_json() -> None:
    environ = {
        "RINGTEST_LINES": '[{"number": "02079460000", "department": "Housing"}]',
        "RINGTEST_STANDARDS__TEST_CALLER_IDS": '["020 7946 0999"]',
    }
    settings = load_settings(environ=environ)
    assert settings.lines[0].number == "+442079460000"
    assert settings.standards.test_caller_ids == ["+442079460999"]


def test_variables_that_are_not_settings_are_left_alone() -> None:
    environ = {"RINGTEST_TEST_PG_URL": "postgresql://x", "RINGTEST_AMI__HOST": "", "PATH": "/bin"}
    assert load_settings(environ=environ).ami.host == "127.0.0.1"


def test_numbers_are_read_in_the_default_region() -> None:
    settings = load_settings(
        overrides={
            "phone.default_region": "us",
            "lines": [{"number": "(202) 555-0123", "department": "Permits"}],
        },
        environ={},
    )
    assert settings.lines[0].number == "+12025550123"


# Secrets


ACCOUNT = '[[sip.accounts]]\nname = "main-office"\nuser = "u"\ndomain = "pbx.example.org"\n'


def test_a_sip_password_comes_from_its_account_variable(in_tmp: Path) -> None:
    write_config(in_tmp, ACCOUNT)
    environ = {"RINGTEST_SIP__MAIN_OFFICE__PASSWORD": "hunter2"}
    settings = load_settings("ringtest.toml", environ=environ)
    assert settings.sip_account("main-office").password_value() == "hunter2"


def test_secret_files_are_read_relative_to_the_config_file(in_tmp: Path) -> None:
    (in_tmp / "secrets").mkdir()
    (in_tmp / "secrets" / "ami").write_text("amipass\n", encoding="utf-8")
    (in_tmp / "secrets" / "sip").write_text("sippass\n", encoding="utf-8")
    write_config(
        in_tmp,
        '[ami]\nsecret_file = "secrets/ami"\n' + ACCOUNT + 'password_file = "secrets/sip"\n',
    )
    settings = load_settings(in_tmp / "ringtest.toml", environ={})
    assert settings.ami_secret() == "amipass"
    assert settings.sip_account("main-office").password_value() == "sippass"


def test_a_secret_in_the_environment_wins_over_the_secret_file(in_tmp: Path) -> None:
    (in_tmp / "ami.secret").write_text("from-file", encoding="utf-8")
    write_config(in_tmp, '[ami]\nsecret_file = "ami.secret"\n')
    settings = load_settings("ringtest.toml", environ={"RINGTEST_AMI__SECRET": "from-env"})
    assert settings.ami_secret() == "from-env"


def test_a_secret_file_that_goes_missing_is_named_when_used(in_tmp: Path) -> None:
    (in_tmp / "ami.secret").write_text("amipass", encoding="utf-8")
    settings = load_settings(overrides={"ami.secret_file": str(in_tmp / "ami.secret")}, environ={})
    (in_tmp / "ami.secret").unlink()
    with pytest.raises(ConfigError) as caught:
        settings.ami_secret()
    assert str(caught.value) == (
        f"ami.secret_file '{in_tmp / 'ami.secret'}' cannot be read (No such file or directory): "
        "check the path and its permissions"
    )


def test_secrets_never_appear_in_repr_str_or_json(in_tmp: Path) -> None:
    write_config(in_tmp, ACCOUNT + 'password = "sip-password-1"\n')
    environ = {
        "RINGTEST_AMI__SECRET": "ami-secret-1",
        "RINGTEST_DB": "postgresql://ringtest:db-password-1@localhost/ringtest",
    }
    settings = load_settings("ringtest.toml", environ=environ)
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    for text in shown:
        for secret in ("ami-secret-1", "sip-password-1", "db-password-1"):
            assert secret not in text
    assert settings.ami_secret() == "ami-secret-1"


def test_a_mistyped_secret_is_not_echoed_in_the_error() -> None:
    message = load_error(overrides={"ami.secret": 12345678})
    assert message == 'command line: ami.secret is not text: write it in quotes, e.g. "value"'


# Settings feed the standards


def test_standards_come_from_the_settings() -> None:
    settings = load_settings(
        overrides={
            "standards.ring_cadence": "us",
            "standards.callback_rule": "end_of_next_working_day",
            "standards.test_caller_ids": ["02079460999"],
            "calendar.subdivision": "sct",
        },
        environ={},
    )
    standards = standards_of(settings)
    assert standards.ring_rule.seconds_per_ring == 6.0
    assert standards.is_test_caller("+442079460999")
    friday_before_st_andrews_day = datetime(2026, 11, 27, 16, tzinfo=UTC)
    assert standards.callback_deadline(friday_before_st_andrews_day) == datetime(
        2026, 12, 1, 17, tzinfo=UTC
    )


def test_seconds_per_ring_overrides_the_cadence() -> None:
    settings = load_settings(overrides={"standards.seconds_per_ring": 4.0}, environ={})
    assert standards_of(settings).ring_rule.seconds_per_ring == 4.0


def test_an_unknown_sip_account_is_named() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ConfigError) as caught:
        settings.sip_account("lab")
    assert (
        str(caught.value)
        == "no SIP account is named 'lab': use one of sip.accounts (none configured)"
    )


def test_settings_cannot_be_changed_after_loading() -> None:
    settings: Settings = load_settings(environ={})
    with pytest.raises(ValueError, match="frozen"):
        settings.ami.port = 1  # type: ignore[misc]


# Errors: one line, naming the source, the setting and the fix


FILE_ERRORS = [
    pytest.param(
        '[ami]\nhots = "pbx"\n',
        "ringtest.toml: unknown setting 'ami.hots': check the spelling (known: host, port, user, "
        "secret, secret_file, tls, pbx, ping_interval_seconds, pong_timeout_seconds, "
        "journal_dir, journal_max_megabytes, inbound_contexts)",
        id="unknown-key",
    ),
    pytest.param(
        "[amii]\n",
        "ringtest.toml: unknown setting 'amii': check the spelling "
        "(known: ami, sip, pbx, lines, standards, calendar, store, phone, report, publish, "
        "privacy, history, web)",
        id="unknown-section",
    ),
    pytest.param(
        '[standards]\nring_cadence = "XX"\n',
        "ringtest.toml: standards.ring_cadence 'XX' is not a known country: "
        "use one of DE, ES, FR, GB, US or set standards.seconds_per_ring",
        id="ring-cadence",
    ),
    pytest.param(
        "[standards]\nseconds_per_ring = 0\n",
        "ringtest.toml: standards.seconds_per_ring 0 is too small: use a number more than 0",
        id="seconds-per-ring",
    ),
    pytest.param(
        '[standards]\ncallback_rule = "weekly"\n',
        "ringtest.toml: standards.callback_rule 'weekly' is not a valid choice: "
        "use 'working_hours' or 'end_of_next_working_day'",
        id="callback-rule",
    ),
    pytest.param(
        "[standards]\nanswer_within_rings = 0\n",
        "ringtest.toml: standards.answer_within_rings 0 is too small: use 1 or more",
        id="answer-within-rings",
    ),
    pytest.param(
        '[standards]\ntest_caller_ids = ["+442079460999", "0207"]\n',
        "ringtest.toml: standards.test_caller_ids[1] '0207' is not a valid phone number for "
        "region GB: write it in E.164, e.g. +442079460000",
        id="test-caller-id",
    ),
    pytest.param(
        '[ami]\nport = "abc"\n',
        "ringtest.toml: ami.port 'abc' is not a whole number: write digits without quotes",
        id="port-not-a-number",
    ),
    pytest.param(
        "[ami]\nport = 70000\n",
        "ringtest.toml: ami.port 70000 is too large: use 65535 or less",
        id="port-too-large",
    ),
    pytest.param(
        '[ami]\ntls = "maybe"\n',
        "ringtest.toml: ami.tls 'maybe' is not true or false: write true or false",
        id="tls",
    ),
    pytest.param(
        '[ami]\nsecret_file = "/nonexistent/ami.secret"\n',
        "ringtest.toml: ami.secret_file '/nonexistent/ami.secret' cannot be read "
        "(No such file or directory): check the path and its permissions",
        id="secret-file",
    ),
    pytest.param(
        '[calendar]\ntimezone = "Europe/Lundon"\n',
        "ringtest.toml: calendar.timezone 'Europe/Lundon' is not a known IANA time zone: "
        "use a name like Europe/London or America/New_York",
        id="timezone",
    ),
    pytest.param(
        '[calendar]\ncountry = "XX"\n',
        "ringtest.toml: calendar.country 'XX' is not a country the holidays package knows: "
        "use an ISO 3166 code such as GB",
        id="country",
    ),
    pytest.param(
        '[calendar]\nsubdivision = "Kent"\n',
        "ringtest.toml: calendar.subdivision 'Kent' is not a subdivision of GB: "
        "use one of ENG, NIR, SCT, WLS",
        id="subdivision",
    ),
    pytest.param(
        '[calendar]\nmon = "17:00-09:00"\n',
        "ringtest.toml: calendar.mon '17:00-09:00' ends before it starts: "
        'write HH:MM-HH:MM with the end after the start, or "closed"',
        id="opening-hours-backwards",
    ),
    pytest.param(
        '[calendar]\ntue = "9am-5pm"\n',
        "ringtest.toml: calendar.tue '9am-5pm' is not opening hours: "
        'write HH:MM-HH:MM (several separated by commas) or "closed"',
        id="opening-hours-format",
    ),
    pytest.param(
        '[calendar]\nmon = "closed"\ntue = "closed"\nwed = "closed"\nthu = "closed"\n'
        'fri = "closed"\n',
        "ringtest.toml: calendar is closed every day of the week: "
        'give at least one day opening hours, e.g. mon = "09:00-17:00"',
        id="never-open",
    ),
    pytest.param(
        '[calendar]\nextra_closed_dates = ["24 December"]\n',
        "ringtest.toml: calendar.extra_closed_dates[0] '24 December' is not a date: "
        "write it as YYYY-MM-DD",
        id="closed-date",
    ),
    pytest.param(
        '[[lines]]\nnumber = "0207"\ndepartment = "Housing"\n',
        "ringtest.toml: lines[0].number '0207' is not a valid phone number for region GB: "
        "write it in E.164, e.g. +442079460000",
        id="line-number",
    ),
    pytest.param(
        '[[lines]]\nnumber = "02079460000"\nextension = "200"\ndepartment = "Housing"\n',
        "ringtest.toml: lines[0] sets both number and extension: "
        "give exactly one of number, extension or queue",
        id="line-two-targets",
    ),
    pytest.param(
        '[[lines]]\nqueue = "600"\ndepartment = "Housing"\n[[lines]]\ndepartment = "Housing"\n',
        "ringtest.toml: lines[1] sets none of number, extension or queue: "
        "give exactly one of number, extension or queue",
        id="line-no-target",
    ),
    pytest.param(
        '[[lines]]\nqueue = "600"\n',
        "ringtest.toml: lines[0].department is required: add it",
        id="line-department",
    ),
    pytest.param(
        ACCOUNT + 'registrar = "pbx.example.org"\n',
        "ringtest.toml: sip.accounts[0].registrar 'pbx.example.org' is not a SIP URI: "
        "write it like sip:pbx.example.org",
        id="registrar",
    ),
    pytest.param(
        ACCOUNT + 'transport = "sctp"\n',
        "ringtest.toml: sip.accounts[0].transport 'sctp' is not a valid choice: "
        "use 'udp', 'tcp' or 'tls'",
        id="transport",
    ),
    pytest.param(
        ACCOUNT + "register = true\n",
        "ringtest.toml: sip.accounts[0] has register = true but no registrar: "
        "set registrar or register = false",
        id="register-without-registrar",
    ),
    pytest.param(
        ACCOUNT + ACCOUNT,
        "ringtest.toml: sip.accounts name 'main-office' is used by two accounts: "
        "give each its own name",
        id="duplicate-account",
    ),
    pytest.param(
        '[[sip.accounts]]\nname = "main office"\nuser = "u"\ndomain = "d"\n',
        "ringtest.toml: sip.accounts[0].name 'main office' is not a usable account name: "
        "use letters, digits, - and _ (it becomes part of RINGTEST_SIP__<NAME>__PASSWORD)",
        id="account-name",
    ),
    pytest.param(
        '[sip.accounts]\nname = "main"\npassword = "hunter2"\n',
        "ringtest.toml: sip.accounts is not a list: write it as [ ... ], or as [[...]] tables",
        id="accounts-not-a-list",
    ),
    pytest.param(
        '[phone]\ndefault_region = "UK"\n',
        "ringtest.toml: phone.default_region 'UK' is not a region phonenumbers knows: "
        "use an ISO 3166 code such as GB",
        id="default-region",
    ),
    pytest.param(
        '[ami]\nport = "abc"\nhots = "x"\n[standards]\nring_cadence = "XX"\n',
        "ringtest.toml: ami.port 'abc' is not a whole number: write digits without quotes "
        "(and 2 more)",
        id="several",
    ),
    pytest.param(
        "[ami]\nport = 5038\nhost\n",
        "ringtest.toml: invalid TOML at line 3, column 5 (expected '=' after a key in a "
        "key/value pair): fix the syntax there",
        id="toml-syntax",
    ),
]


@pytest.mark.parametrize(("text", "expected"), FILE_ERRORS)
def test_a_bad_setting_in_the_file_is_one_line(in_tmp: Path, text: str, expected: str) -> None:
    assert load_error(text) == expected


def test_a_missing_file_is_named(in_tmp: Path) -> None:
    assert load_error(path="missing.toml") == (
        "missing.toml: no such file: check the path given to --config or RINGTEST_CONFIG"
    )


def test_a_bad_variable_is_named() -> None:
    assert load_error(environ={"RINGTEST_AMI__PORT": "x"}) == (
        "RINGTEST_AMI__PORT: ami.port 'x' is not a whole number: write digits without quotes"
    )


def test_a_misspelt_variable_is_named() -> None:
    assert load_error(environ={"RINGTEST_AMI__HOTS": "pbx"}) == (
        "RINGTEST_AMI__HOTS: unknown setting 'ami.hots': check the spelling (known: host, port, "
        "user, secret, secret_file, tls, pbx, ping_interval_seconds, pong_timeout_seconds, "
        "journal_dir, journal_max_megabytes, inbound_contexts)"
    )


def test_a_bad_value_in_a_file_section_is_blamed_on_the_variable_that_set_it(
    in_tmp: Path,
) -> None:
    text = '[calendar]\ntimezone = "Europe/London"\n'
    message = load_error(text, environ={"RINGTEST_CALENDAR__SAT": "10:00-09:00"})
    assert message == (
        "RINGTEST_CALENDAR__SAT: calendar.sat '10:00-09:00' ends before it starts: "
        'write HH:MM-HH:MM with the end after the start, or "closed"'
    )


def test_bad_json_in_a_variable_is_named() -> None:
    assert load_error(environ={"RINGTEST_LINES": "[{"}) == (
        "RINGTEST_LINES: not valid JSON (Expecting property name enclosed in double quotes "
        "at column 3): write the list or table as JSON"
    )


def test_a_password_for_an_unknown_account_is_named() -> None:
    assert load_error(environ={"RINGTEST_SIP__MAIN__PASSWORD": "x"}) == (
        "RINGTEST_SIP__MAIN__PASSWORD: no SIP account is named 'main': "
        "name one of sip.accounts (none configured)"
    )


def test_two_store_urls_are_refused() -> None:
    environ = {"RINGTEST_DB": "sqlite://", "RINGTEST_STORE__URL": "sqlite://"}
    assert load_error(environ=environ) == (
        "RINGTEST_DB and RINGTEST_STORE__URL are both set: unset one of them"
    )


def test_a_bad_override_is_blamed_on_the_command_line() -> None:
    assert load_error(overrides={"standards.answer_within_rings": "seven"}) == (
        "command line: standards.answer_within_rings 'seven' is not a whole number: "
        "write digits without quotes"
    )


# The weekly report


def test_the_report_defaults_send_on_monday_at_eight() -> None:
    report = load_settings(environ=NO_ENVIRONMENT).report
    assert (report.schedule_day, report.schedule_time) == ("mon", "08:00")
    assert report.recipients == [] and report.output_dir is None
    assert (report.smtp.host, report.smtp.port, report.smtp.starttls) == ("localhost", 587, True)
    assert (report.target_percent, report.short_abandon_seconds) == (90.0, 5.0)
    assert report.smtp.password_value() is None


def test_the_smtp_password_comes_from_the_environment_or_a_file(in_tmp: Path) -> None:
    environ = {"RINGTEST_REPORT__SMTP__PASSWORD": "smtp-password-1"}
    settings = load_settings(environ=environ)
    assert settings.report.smtp.password_value() == "smtp-password-1"
    assert "smtp-password-1" not in repr(settings) + settings.model_dump_json()
    (in_tmp / "smtp.secret").write_text("smtp-password-2\n", encoding="utf-8")
    settings = load_settings(
        overrides={"report.smtp.password_file": str(in_tmp / "smtp.secret")}, environ={}
    )
    assert settings.report.smtp.password_value() == "smtp-password-2"


def test_report_recipients_come_from_the_environment_as_json() -> None:
    environ = {"RINGTEST_REPORT__RECIPIENTS": '["manager@council.example"]'}
    assert load_settings(environ=environ).report.recipients == ["manager@council.example"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "RINGTEST_REPORT__SCHEDULE_TIME",
            "8am",
            "report.schedule_time '8am' is not a time of day: write it as HH:MM, e.g. \"08:00\"",
        ),
        (
            "RINGTEST_REPORT__RECIPIENTS",
            '["nobody"]',
            "report.recipients[0] 'nobody' is not an email address: "
            "write it like performance@council.example",
        ),
        ("RINGTEST_REPORT__SMTP__PASSWORD", "", None),
    ],
)
def test_a_bad_report_setting_is_one_line(variable: str, value: str, expected: str | None) -> None:
    if expected is None:
        assert load_settings(environ={variable: value}).report.smtp.password is None
    else:
        assert load_error(environ={variable: value}) == f"{variable}: {expected}"


# Callback tests


def test_callback_settings_are_numbers_in_e164_and_a_message_beside_the_config(
    in_tmp: Path,
) -> None:
    write_config(
        in_tmp,
        ACCOUNT
        + 'did_pool = ["01382 000150", "+441382000151"]\ncallback_message = "audio/ask.wav"\n'
        + '[[lines]]\nextension = "2004"\ndepartment = "Planning"\n'
        + 'outbound_caller_ids = ["01382 434099"]\n',
    )
    settings = load_settings(in_tmp / "ringtest.toml", environ={})
    account = settings.sip_account("main-office")
    assert account.did_pool == ["+441382000150", "+441382000151"]
    assert account.callback_message == in_tmp / "audio" / "ask.wav"
    assert settings.lines[0].outbound_caller_ids == ["+441382434099"]


def test_callback_settings_default_to_none() -> None:
    settings = load_settings(
        overrides={"sip.accounts": [{"name": "a", "user": "u", "domain": "d"}]}, environ={}
    )
    assert settings.sip_account("a").did_pool == []
    assert settings.sip_account("a").callback_message is None


def test_a_did_that_is_no_number_is_one_line(in_tmp: Path) -> None:
    assert load_error(ACCOUNT + 'did_pool = ["0207"]\n') == (
        "ringtest.toml: sip.accounts[0].did_pool[0] '0207' is not a valid phone number for "
        "region GB: write it in E.164, e.g. +442079460000"
    )
