"""SIP over TLS through the lab PBX (127.0.0.1:5061, a self-signed certificate).

An account trusting the lab's certificate (`LabStatus.tls_ca_file`) registers and
places ring tests measured like UDP ones; an account trusting anything else gets a
one-line error and sends the PBX nothing. Each CA file opens its own TLS transport
on the session's endpoint, so trusting and untrusting accounts live side by side.
Every account is removed after use: the endpoint holds at most
`ACCOUNTS_PER_PROCESS` and the other suites need theirs.
"""

from pathlib import Path

import pytest

from ringtest.core.errors import SipError
from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.lab.accounts import ANSWER_HEADER, CITIZEN, LAB_HOST
from ringtest.lab.tls import SIP_TLS_PORT, ensure_lab_certificate
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test

pytestmark = pytest.mark.lab

TOLERANCE_SECONDS = 0.050
REGISTRAR = f"sip:{LAB_HOST}:{SIP_TLS_PORT}"
COUNCIL_TAX = f"sip:2001@{LAB_HOST}:{SIP_TLS_PORT}"


def citizen_over_tls(name: str, ca_file: Path | None, *, register: bool) -> SipAccount:
    """The lab's citizen over TLS; nothing else registers it, so registering is harmless."""
    return SipAccount(
        name=name,
        user=CITIZEN.username,
        password=CITIZEN.secret,
        domain=LAB_HOST,
        registrar=REGISTRAR if register else None,
        transport="tls",
        tls_ca_file=None if ca_file is None else str(ca_file),
    )


@pytest.fixture
def account_on(sip_endpoint):
    """Adds accounts to the session's endpoint for one test, removing them after it."""
    added: list[str] = []

    def add(account: SipAccount) -> str:
        sip_endpoint.add_account(account)
        added.append(account.name)
        return account.name

    yield add
    for name in added:
        sip_endpoint.remove_account(name)


@pytest.fixture(scope="module")
def stranger_ca(tmp_path_factory) -> Path:
    """A self-signed certificate for 127.0.0.1 that is not the lab's."""
    return ensure_lab_certificate(tmp_path_factory.mktemp("stranger"))


def ring_council_tax(sip_endpoint, account: str, tmp_path: Path, answer_ms: str = "2000"):
    return place_ring_test(
        sip_endpoint,
        account,
        COUNCIL_TAX,
        max_rings=10,
        ring_rule=RingRule(seconds_per_ring=3.0, answer_within_rings=7),
        extra_headers={ANSWER_HEADER: answer_ms},
        timeout_seconds=40,
        evidence_path=tmp_path / "staff1.wav",
    )


def test_ring_test_over_tls_measures_the_ring_time_of_the_staff_answer(
    sip_endpoint, lab, account_on, tmp_path
):
    caller = account_on(citizen_over_tls("lab-tls-citizen", lab.tls_ca_file, register=False))
    result, timeline, greeting = ring_council_tax(sip_endpoint, caller, tmp_path)
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.target == COUNCIL_TAX
    assert result.ring_seconds == pytest.approx(2.0, abs=TOLERANCE_SECONDS)
    assert result.answered_by is AnsweredBy.PERSON, greeting
    assert result.within_standard


def test_registration_over_tls_trusting_the_lab_succeeds(sip_endpoint, lab, account_on):
    name = account_on(citizen_over_tls("lab-tls-registered", lab.tls_ca_file, register=True))

    def registration() -> tuple[bool, int]:
        info = sip_endpoint.account(name).getInfo()
        return info.regIsActive, info.regStatus

    assert sip_endpoint.submit(registration).result() == (True, 200)


def test_registration_trusting_only_the_system_cas_is_one_line_naming_the_fix(sip_endpoint, lab):
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(citizen_over_tls("lab-tls-system-cas", None, register=True))
    assert str(caught.value) == (
        f"SIP registration of 'lab-tls-system-cas' at {REGISTRAR};transport=tls failed: "
        "TLS certificate not trusted by the system's CAs: set sip.accounts.tls_ca_file "
        "to the PBX's CA (its certificate, when self-signed)"
    )


def test_registration_trusting_another_certificate_names_that_file(sip_endpoint, lab, stranger_ca):
    with pytest.raises(SipError) as caught:
        sip_endpoint.add_account(citizen_over_tls("lab-tls-stranger", stranger_ca, register=True))
    assert str(caught.value) == (
        f"SIP registration of 'lab-tls-stranger' at {REGISTRAR};transport=tls failed: "
        f"TLS certificate not trusted by {stranger_ca}: set sip.accounts.tls_ca_file "
        "to the PBX's CA (its certificate, when self-signed)"
    )


def test_ring_test_to_an_untrusted_pbx_is_never_placed(
    sip_endpoint, lab, account_on, stranger_ca, tmp_path
):
    caller = account_on(citizen_over_tls("lab-tls-untrusting", stranger_ca, register=False))
    result, timeline, _ = ring_council_tax(sip_endpoint, caller, tmp_path)
    assert result.outcome is RingTestOutcome.UNREACHABLE
    assert result.reason == "SSL certificate verification error (PJSIP_TLS_ECERTVERIF)"
    assert timeline.first_100 is None
