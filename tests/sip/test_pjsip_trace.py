"""`-vv`'s pjsip trace: no Digest response, no phone number ever reaches a log."""

import subprocess
import sys
import textwrap

import pytest

from ringtest.sip.pjsip_log import NUMBER_REDACTED, REDACTED, redact_sip_trace

RESIDENT = "01632960123"

REGISTER_WITH_CREDENTIALS = (
    "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"
    "From: <sip:+441632960123@council.example>;tag=a1\r\n"
    't: "01632 960123" <sip:01632-960123@council.example>\r\n'
    "Contact: <sip:441632960123@127.0.0.1:5071;ob>\r\n"
    "Remote-Party-ID: +44 1632 960123 <sip:resident@council.example>;party=calling\r\n"
    "P-Asserted-Identity: <tel:+44-1632-960123>\r\n"
    'Authorization: Digest username="01632960123", realm="ringtest", '
    'response="6629fae49393a05397450978507c4ef1"\r\n'
    'proxy-authorization : Digest username="x", response="0123456789abcdef"\r\n'
    "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK123456\r\n"
)


def test_credentials_are_redacted_whatever_the_header_case():
    trace = redact_sip_trace(REGISTER_WITH_CREDENTIALS)
    assert f"Authorization: {REDACTED}\r\n" in trace
    assert f"proxy-authorization: {REDACTED}\r\n" in trace
    assert "response=" not in trace
    assert "6629fae4" not in trace


@pytest.mark.parametrize("digits", ["441632960123", "1632", "960123"])
def test_no_phone_number_survives_in_any_identity_header(digits):
    trace = redact_sip_trace(REGISTER_WITH_CREDENTIALS)
    assert digits not in trace.replace("-", "").replace(" ", "")
    assert f"From: <sip:{NUMBER_REDACTED}@council.example>;tag=a1" in trace
    assert f't: "{NUMBER_REDACTED}" <sip:{NUMBER_REDACTED}@council.example>' in trace
    assert f"P-Asserted-Identity: <tel:{NUMBER_REDACTED}>" in trace
    assert f"Remote-Party-ID: {NUMBER_REDACTED} <sip:resident@council.example>" in trace


def test_hosts_ports_branches_and_named_users_are_kept():
    text = (
        "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.7:5071;branch=z9hG4bK123456\r\n"
        "Route: <sip:127.0.0.1;lr>\r\n"
        "To: <sip:127.0.0.1:5060>\r\n"
        "CSeq: 31582 INVITE\r\n"
        "Content-Length: 0\r\n"
    )
    assert redact_sip_trace(text) == text


def test_a_real_pjsip_trace_at_debug_carries_no_digest_response_and_no_number(sipp_uas):
    """A real registration through pjsua2 with its SIP messages logged (as under -vv)."""
    registrar = sipp_uas("registrar_any_password")
    script = textwrap.dedent(
        f"""
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(message)s")
        from ringtest.sip.accounts import SipAccount
        from ringtest.sip.endpoint import SipEndpoint
        account = SipAccount(
            name="resident", user="{RESIDENT}", password="secret",
            registrar="sip:127.0.0.1:{registrar.port}",
        )
        with SipEndpoint() as endpoint:
            endpoint.add_account(account, register_timeout_seconds=5)
        """
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    trace = ran.stdout
    assert "REGISTER sip:127.0.0.1" in trace
    assert f"Authorization: {REDACTED}" in trace
    assert "response=" not in trace
    assert RESIDENT not in trace
    assert f"sip:{NUMBER_REDACTED}@" in trace
