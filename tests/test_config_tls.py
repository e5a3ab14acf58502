"""SIP over TLS in the settings: `transport = "tls"` and `tls_ca_file` reach the caller."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.errors import ConfigError, SipError
from ringtest.sip.accounts import SipAccount
from ringtest.sources.ring_tests import sip_account, target_uri

TLS_ACCOUNT = """
[[sip.accounts]]
name = "main-office"
user = "ringtester"
domain = "pbx.example.org"
registrar = "sip:pbx.example.org:5061"
transport = "tls"
"""


def load(directory: Path, text: str, environ: dict[str, str] | None = None):
    path = directory / "ringtest.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ=environ or {})


def test_a_tls_account_reaches_the_caller_with_its_ca_file_read_beside_the_config(
    tmp_path: Path,
) -> None:
    settings = load(tmp_path, TLS_ACCOUNT + 'tls_ca_file = "keys/pbx-ca.pem"\n')
    configured = settings.sip_account("main-office")
    account = sip_account(configured)
    assert account.transport == "tls"
    assert account.tls_ca_file == str(tmp_path / "keys" / "pbx-ca.pem")
    assert account.registrar_uri == "sip:pbx.example.org:5061;transport=tls"
    assert target_uri("2001", configured, "GB") == "sip:2001@pbx.example.org:5061"


def test_the_example_config_has_a_tls_account_trusting_a_file_beside_it() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "ringtest.toml"
    account = sip_account(load_settings(example, environ={}).sip_account("secure"))
    assert account.registrar_uri == "sip:pbx.example.org:5061;transport=tls"
    assert account.tls_ca_file == str(example.parent / "pbx-ca.pem")


def test_a_tls_account_without_a_ca_file_trusts_the_system_store(tmp_path: Path) -> None:
    account = sip_account(load(tmp_path, TLS_ACCOUNT).sip_account("main-office"))
    assert (account.transport, account.tls_ca_file) == ("tls", None)


def test_the_ca_file_comes_from_its_account_variable(tmp_path: Path) -> None:
    environ = {"RINGTEST_SIP__MAIN_OFFICE__TLS_CA_FILE": "/etc/pbx/ca.pem"}
    settings = load(tmp_path, TLS_ACCOUNT, environ)
    assert sip_account(settings.sip_account("main-office")).tls_ca_file == "/etc/pbx/ca.pem"


def test_a_ca_file_without_tls_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = TLS_ACCOUNT.replace('"tls"', '"udp"') + 'tls_ca_file = "/etc/pbx/ca.pem"\n'
    with pytest.raises(ConfigError) as caught:
        load(Path("."), text)
    assert str(caught.value) == (
        "ringtest.toml: sip.accounts[0] has tls_ca_file but transport 'udp': "
        'set transport = "tls" or drop tls_ca_file'
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"transport": "ws"},
            "SIP account 'main-office' has transport 'ws': use udp, tcp or tls",
        ),
        (
            {"transport": "tcp", "tls_ca_file": "/etc/pbx/ca.pem"},
            "SIP account 'main-office' has a TLS CA file but transport 'tcp': "
            "use transport tls or drop the CA file",
        ),
    ],
)
def test_a_sip_account_refuses_what_it_cannot_send(options: dict, message: str) -> None:
    with pytest.raises(SipError) as caught:
        SipAccount(name="main-office", user="u", **options)
    assert str(caught.value) == message
