"""The lab's switchboard (2000) navigated to a person: a menu answers, we press 1,
staff6 is dialled and answers after X-Lab-Answer ms.

Asterisk dials staff6 from the answered call, so no 180 reaches us: the ringback
is Asterisk's in-band tone, and the rings after the key are read from the audio.
The truth is the lab's answer delay: staff6 answers that long after it is dialled.
"""

from collections.abc import Iterator

import pytest

from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.lab.accounts import ANSWER_HEADER, CITIZEN, LAB_HOST, SIP_PORT
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test
from ringtest.sip.ivr import parse_ivr

pytestmark = pytest.mark.lab

TOLERANCE_SECONDS = 0.050
SWITCHBOARD = f"sip:2000@{LAB_HOST}:{SIP_PORT}"


@pytest.fixture(scope="module")
def citizen(sip_endpoint, lab) -> Iterator[str]:
    """The lab's citizen caller, set up on the session's endpoint (digest auth, no REGISTER)."""
    sip_endpoint.add_account(
        SipAccount(
            name="lab-ivr-citizen", user=CITIZEN.username, password=CITIZEN.secret, domain=LAB_HOST
        )
    )
    yield "lab-ivr-citizen"
    sip_endpoint.remove_account("lab-ivr-citizen")


def test_lab_switchboard_navigated_to_a_person_measures_the_ring_after_the_key(
    sip_endpoint, citizen, tmp_path
):
    answer_seconds = 4.3
    placed = place_ring_test(
        sip_endpoint,
        citizen,
        SWITCHBOARD,
        max_rings=3,
        ring_rule=RingRule(seconds_per_ring=3.0, answer_within_rings=7),
        extra_headers={ANSWER_HEADER: str(int(answer_seconds * 1000))},
        timeout_seconds=60,
        evidence_path=tmp_path / "switchboard.wav",
        record_seconds=4.0,
        key_plan=parse_ivr("w1 1"),
    )
    result = placed.result
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.ring_seconds_after_ivr == pytest.approx(answer_seconds, abs=TOLERANCE_SECONDS), (
        placed.greeting
    )
    assert result.rings_after_ivr == 2
    assert result.answered_by is AnsweredBy.PERSON, placed.greeting
    assert result.within_standard
    assert result.ivr_keys == "w1 1"
    assert result.ivr_seconds == pytest.approx(1.0, abs=TOLERANCE_SECONDS)
    assert result.ring_seconds == 0.0, "the menu answered before any SIP ringing"
    assert result.to_person_seconds > result.ivr_seconds + answer_seconds
