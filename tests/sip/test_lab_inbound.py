"""Inbound calls on the lab PBX reach the account that answers them.

pjsua2 hands an inbound INVITE to the first account whose user and domain match the
request URI. A process that places ring tests from the mystery account and also waits
for call-backs on it may hold two accounts of that one SIP user; the call-back must
still be answered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtest.lab.accounts import LAB_HOST, RINGTESTER, SIP_PORT, STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.sip.accounts import SipAccount
from ringtest.sip.inbound import answer_inbound

pytestmark = pytest.mark.lab

HELLO_WAV = Path(__file__).parents[2] / "ringtest" / "lab" / "audio" / "hello.wav"


def test_a_call_back_reaches_the_answering_account_when_another_of_its_user_came_first(
    lab, sip_endpoint, tmp_path
):
    placing_only = SipAccount(
        name="placing-only",
        user=RINGTESTER.username,
        password=RINGTESTER.secret,
        domain=LAB_HOST,
    )
    answering = SipAccount(
        name="answering",
        user=RINGTESTER.username,
        password=RINGTESTER.secret,
        domain=LAB_HOST,
        registrar=f"sip:{LAB_HOST}:{SIP_PORT}",
    )
    sip_endpoint.add_account(placing_only)
    try:
        sip_endpoint.add_account(answering)
        arrivals = answer_inbound(sip_endpoint, "answering", HELLO_WAV, default_region="GB")
        call = lab_call(RINGTESTER.caller_id, account=STAFFOUT, hold_ms=500, timeout_s=30)
    finally:
        sip_endpoint.remove_account("answering")
        sip_endpoint.remove_account("placing-only")

    assert call.answered
    arrival = arrivals.get(timeout=5)
    assert arrival.account == "answering"
    assert arrival.caller == "+441382434099"
