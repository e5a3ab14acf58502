"""A ring test through the lab PBX: citizen dials 2001, staff1 answers after X-Lab-Answer ms.

Asterisk sends the 180 when staff1 starts ringing and the 200 when staff1 answers,
so the SIP ring time the caller measures should match the lab's answer delay; staff1
then says "Hello?", which the recording classifies as a person.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.lab.accounts import ANSWER_HEADER, LAB_HOST, SIP_PORT
from ringtest.sip.caller import place_ring_test

pytestmark = pytest.mark.lab

TOLERANCE_SECONDS = 0.050


def test_lab_staff_answering_after_two_seconds_measures_two_seconds_of_ringing(
    sip_endpoint, citizen, tmp_path
):
    result, _, greeting = place_ring_test(
        sip_endpoint,
        citizen,
        f"sip:2001@{LAB_HOST}:{SIP_PORT}",
        max_rings=10,
        ring_rule=RingRule(seconds_per_ring=3.0, answer_within_rings=7),
        extra_headers={ANSWER_HEADER: "2000"},
        timeout_seconds=40,
        evidence_path=tmp_path / "staff1.wav",
    )
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.ring_seconds == pytest.approx(2.0, abs=TOLERANCE_SECONDS)
    assert result.answered_by is AnsweredBy.PERSON, greeting
    assert greeting.words == 1, "staff1 says one word: Hello?"
    assert result.within_standard
    assert result.evidence_path == str(tmp_path / "staff1.wav")


LAB_DELAYS_SECONDS = (1.0, 7.0, 13.0, 25.0)
"""Staff answer delays from one ring to past a seven-ring standard (GB cadence, 3 s)."""


def test_lab_ring_times_from_1_to_25_seconds_are_each_within_50_ms(sip_endpoint, citizen):
    def ring_test(delay_seconds: float):
        result, _, _ = place_ring_test(
            sip_endpoint,
            citizen,
            f"sip:2001@{LAB_HOST}:{SIP_PORT}",
            max_rings=12,
            ring_rule=RingRule(seconds_per_ring=3.0, answer_within_rings=7),
            extra_headers={ANSWER_HEADER: str(int(delay_seconds * 1000))},
            timeout_seconds=45,
        )
        return result

    with ThreadPoolExecutor(max_workers=len(LAB_DELAYS_SECONDS)) as pool:
        results = list(pool.map(ring_test, LAB_DELAYS_SECONDS))
    for delay_seconds, result in zip(LAB_DELAYS_SECONDS, results, strict=True):
        assert result.outcome is RingTestOutcome.ANSWERED, (delay_seconds, result.reason)
        assert result.ring_seconds == pytest.approx(delay_seconds, abs=TOLERANCE_SECONDS)
    assert [result.rings for result in results] == [1, 3, 5, 9]


def test_lab_switchboard_answering_at_once_measures_no_ringing(sip_endpoint, citizen, tmp_path):
    """2000 does Answer() before any 180: the caller hears no ringing, 0 s and 0 rings."""
    result, _, greeting = place_ring_test(
        sip_endpoint,
        citizen,
        f"sip:2000@{LAB_HOST}:{SIP_PORT}",
        max_rings=10,
        ring_rule=RingRule(seconds_per_ring=3.0, answer_within_rings=7),
        timeout_seconds=40,
        evidence_path=tmp_path / "switchboard.wav",
    )
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.ring_seconds == 0.0
    assert result.rings == 0
    assert result.answered_by is not AnsweredBy.PERSON, greeting
    assert not result.within_standard, "only a person answering is within the standard"
