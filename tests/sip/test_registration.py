"""Account registration against a real registrar (sipp challenging with digest auth)."""

import pytest

from ringtest.core.errors import SipError
from ringtest.sip.accounts import SipAccount
from ringtest.sip.endpoint import SipEndpoint


def test_account_registers_with_the_right_password(sip_endpoint, sipp_uas):
    registrar = sipp_uas("registrar")
    account = SipAccount(
        name="citizen-ok",
        user="citizen",
        password="secret",
        registrar=f"sip:127.0.0.1:{registrar.port}",
    )
    sip_endpoint.add_account(account, register_timeout_seconds=5)
    assert sip_endpoint.submit(lambda: sip_endpoint.account("citizen-ok").getInfo().regIsActive)


def test_wrong_password_is_one_line_naming_the_account_and_the_fix(sip_endpoint, sipp_uas):
    registrar = sipp_uas("registrar")
    account = SipAccount(
        name="citizen",
        user="citizen",
        password="wrong",
        registrar=f"sip:127.0.0.1:{registrar.port}",
    )
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(account, register_timeout_seconds=5)
    assert str(caught.value) == (
        f"SIP registration of 'citizen' at sip:127.0.0.1:{registrar.port} failed: "
        "403 Forbidden: check the password"
    )


def test_silent_registrar_is_one_line_after_the_timeout(sip_endpoint, silent_uri):
    port = silent_uri.rsplit(":", 1)[1]
    account = SipAccount(name="citizen-silent", user="citizen", registrar=f"sip:127.0.0.1:{port}")
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(account, register_timeout_seconds=0.5)
    assert str(caught.value) == (
        f"SIP registration of 'citizen-silent' at sip:127.0.0.1:{port} got no answer "
        "within 0.5 s: check the registrar address and that the PBX is running"
    )


def test_refused_tcp_registrar_is_one_line(sip_endpoint, silent_uri):
    port = silent_uri.rsplit(":", 1)[1]
    account = SipAccount(
        name="citizen-tcp", user="citizen", transport="tcp", registrar=f"sip:127.0.0.1:{port}"
    )
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(account, register_timeout_seconds=5)
    assert str(caught.value).startswith(
        f"SIP registration of 'citizen-tcp' at sip:127.0.0.1:{port};transport=tcp failed: "
    )
    assert str(caught.value).endswith(": check the registrar address and that the PBX is running")


def test_an_account_name_is_set_up_once(sip_endpoint):
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(SipAccount(name="tester", user="someone-else"))
    assert str(caught.value) == "SIP account 'tester' is already set up: give it another name"


def test_a_second_endpoint_in_the_same_process_is_one_line(sip_endpoint):
    with pytest.raises(SipError) as caught:
        SipEndpoint().start()
    assert str(caught.value) == (
        "a SIP endpoint is already running in this process: reuse it or stop it first"
    )
