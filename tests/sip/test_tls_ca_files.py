"""A TLS account whose CA file cannot be used is refused when added, in one line.

The file is checked before any transport opens or any request is sent; no PBX needed.
"""

from pathlib import Path

import pytest

from ringtest.core.errors import SipError
from ringtest.sip.accounts import SipAccount


def tls_account(name: str, ca_file: Path) -> SipAccount:
    return SipAccount(
        name=name,
        user="citizen",
        registrar="sip:127.0.0.1:5061",
        transport="tls",
        tls_ca_file=str(ca_file),
    )


def test_a_missing_ca_file_is_one_line_naming_the_account_and_the_file(sip_endpoint, tmp_path):
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(tls_account("tls-missing-ca", missing))
    assert str(caught.value) == (
        f"SIP account 'tls-missing-ca' cannot use the TLS CA file {missing} "
        "(No such file or directory): set sip.accounts.tls_ca_file to a PEM file of the PBX's CA"
    )
    assert not sip_endpoint.has_account("tls-missing-ca")


def test_a_ca_file_holding_no_certificate_is_one_line(sip_endpoint, tmp_path):
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(tls_account("tls-not-pem", not_pem))
    assert str(caught.value) == (
        f"SIP account 'tls-not-pem' cannot use the TLS CA file {not_pem} "
        "(NO_CERTIFICATE_OR_CRL_FOUND): set sip.accounts.tls_ca_file to a PEM file of the PBX's CA"
    )
