"""Live calls through the real lab Asterisk, measured by the listener from its AMI.

Real SIP agents: pjsua2 places each call from the lab's `ringtester` account;
the lab's sipp staff agents answer after the delay the call asks for
(X-Lab-Answer), so every ring time has a known truth. All scenarios run at once
while one listener stores what it sees; each is then checked against the truth
and against the ring time the caller itself measured on the wire.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.standards import RingRule
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import (
    ANSWER_HEADER,
    CONSULT_AFTER_MS,
    CONSULT_MS,
    DEFAULT_ANSWER_MS,
    DESK_PHONE,
    LAB_HOST,
    RINGTESTER,
    SIP_PORT,
    TRANSFER_AFTER_MS,
)
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

pytestmark = pytest.mark.lab

TOLERANCE_SECONDS = 0.050
SECONDS_PER_RING = 5.0
"""The tests use the German cadence (DE, 5.0 s) so no truth sits on a ring boundary."""


@dataclass(frozen=True)
class Scenario:
    """One lab call: where, how staff answer, and what the listener must store."""

    line: str
    answer: str
    outcome: CallOutcome
    answered_by: AnsweredBy
    ring_seconds: float | None
    rings: int | None
    caller_max_rings: int | None = None
    caller_hold_seconds: float = 0.5


SCENARIOS = {
    "person": Scenario("2001", "1000", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.0, 1),
    "ring group": Scenario("2002", "1500", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.5, 1),
    "queue": Scenario("benefits", "2500", CallOutcome.ANSWERED, AnsweredBy.PERSON, 2.5, 1),
    "ivr then person": Scenario(
        "2000", "1200", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.2, 1, caller_hold_seconds=9.0
    ),
    "voicemail": Scenario(
        "2004",
        "never",
        CallOutcome.VOICEMAIL,
        AnsweredBy.VOICEMAIL,
        12.0,
        3,
        caller_hold_seconds=2.0,
    ),
    "busy": Scenario("2005", "", CallOutcome.BUSY, AnsweredBy.NONE, None, None),
    "abandoned": Scenario(
        "2001", "never", CallOutcome.ABANDONED, AnsweredBy.NONE, 3.0, 1, caller_max_rings=3
    ),
    "blind transfer": Scenario(
        "2006", "1100", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.1, 1, caller_hold_seconds=4.0
    ),
    "local channel": Scenario("2007", "1300", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.3, 1),
    "congestion": Scenario("2008", "", CallOutcome.FAILED, AnsweredBy.NONE, None, None),
    "round-robin queue": Scenario(
        "permits", "1700", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.7, 1
    ),
    "attended transfer": Scenario(
        "2010", "1400", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.4, 1, caller_hold_seconds=8.0
    ),
}
DIAL = {"benefits": "2003", "permits": "2009"}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """The SQLite file the listener stores the live calls in."""
    return tmp_path_factory.mktemp("live") / "ringtest.db"


@pytest.fixture(scope="module")
def measured(lab, sip_endpoint, database):
    """Run every scenario at once with the listener attached; return stored calls by name."""
    settings = load_settings(
        LAB_CONFIG,
        overrides={
            "store.url": f"sqlite:///{database}",
            "standards.ring_cadence": "DE",
        },
    )
    sip_endpoint.add_account(
        SipAccount(
            name="live-ringtester",
            user=RINGTESTER.username,
            password=RINGTESTER.secret,
            domain=LAB_HOST,
        )
    )
    stream = RecordStream()
    with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        listener = BackgroundListener(make_listener(settings, store, stream)).start()
        try:
            with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
                placed = dict(
                    zip(
                        SCENARIOS,
                        pool.map(place, SCENARIOS.values(), [sip_endpoint] * len(SCENARIOS)),
                        strict=True,
                    )
                )
            stored = wait_for_calls(store, SCENARIOS.values())
        finally:
            listener.stop()
            writer.close()
            sip_endpoint.remove_account("live-ringtester")
    return {name: (find(stored, scenario), placed[name]) for name, scenario in SCENARIOS.items()}


def place(scenario: Scenario, endpoint):
    headers = {ANSWER_HEADER: scenario.answer} if scenario.answer else {}
    return place_ring_test(
        endpoint,
        "live-ringtester",
        f"sip:{DIAL.get(scenario.line, scenario.line)}@{LAB_HOST}:{SIP_PORT}",
        max_rings=scenario.caller_max_rings,
        ring_rule=RingRule(seconds_per_ring=1.0, answer_within_rings=7),
        extra_headers=headers,
        timeout_seconds=40,
        answered_hold_seconds=scenario.caller_hold_seconds,
    ).result


def wait_for_calls(store: Store, scenarios, seconds: float = 20.0):
    """The ring tester's stored calls, once every scenario's call is among them.

    Waiting for a count is not enough: the lab is shared, and another suite's ring
    tester calls would make up the number before a slow call (voicemail) is stored.
    """
    deadline = time.monotonic() + seconds
    while True:
        calls = ringtester_calls(store)
        missing = [scenario for scenario in scenarios if not matching(calls, scenario)]
        if not missing:
            return calls
        assert time.monotonic() < deadline, f"not stored within {seconds} s: {missing}"
        time.sleep(0.05)


def ringtester_calls(store: Store):
    return [c for c in store.calls() if c.caller == RINGTESTER.caller_id]


def matching(stored, scenario: Scenario):
    return [c for c in stored if c.line == scenario.line and c.outcome is scenario.outcome]


def find(stored, scenario: Scenario):
    matches = matching(stored, scenario)
    assert len(matches) == 1, f"{scenario}: {matches}"
    return matches[0]


@pytest.mark.parametrize("name", SCENARIOS)
def test_listener_measures_the_lab_call_exactly(measured, name):
    scenario = SCENARIOS[name]
    call, _ = measured[name]
    assert (call.outcome, call.answered_by, call.rings) == (
        scenario.outcome,
        scenario.answered_by,
        scenario.rings,
    )
    if scenario.ring_seconds is None:
        assert call.ring_seconds is None
    else:
        assert call.ring_seconds == pytest.approx(scenario.ring_seconds, abs=TOLERANCE_SECONDS)
    assert call.is_test_call


@pytest.mark.parametrize(
    "name",
    [
        "person",
        "ring group",
        "queue",
        "voicemail",
        "abandoned",
        "blind transfer",
        "local channel",
        "round-robin queue",
        "attended transfer",
    ],
)
def test_listener_and_caller_agree_on_ring_time(measured, name):
    call, placed = measured[name]
    assert placed.ring_seconds == pytest.approx(call.ring_seconds, abs=TOLERANCE_SECONDS)


def test_time_in_the_ivr_is_recorded_apart_from_ringing(measured):
    call, _ = measured["ivr then person"]
    assert call.ivr_seconds > 3.0
    assert call.ring_started_at > call.started_at


def test_blind_transferred_call_ends_when_its_caller_leaves_the_transfer_target(measured):
    call, _ = measured["blind transfer"]
    talked = (call.ended_at - call.answered_at).total_seconds()
    assert talked == pytest.approx(4.0, abs=0.5), "ended with the caller, not the transferer"
    assert talked > TRANSFER_AFTER_MS / 1000 + 1.1


def test_attended_transfer_keeps_the_caller_talking_to_the_colleague_until_they_hang_up(
    measured,
):
    call, _ = measured["attended transfer"]
    talked = (call.ended_at - call.answered_at).total_seconds()
    transferred_after = (CONSULT_AFTER_MS + DEFAULT_ANSWER_MS + CONSULT_MS) / 1000
    assert talked == pytest.approx(8.0, abs=0.5), "ended with the caller, not the desk phone"
    assert talked > transferred_after + 2.0


def test_the_consultation_call_is_not_stored_as_a_call_to_a_council_line(measured, database):
    with Store.open(f"sqlite:///{database}") as store:
        stored = store.calls()
    assert [c for c in stored if c.caller == DESK_PHONE.caller_id] == []
    assert len({c.call_id for c in stored}) == len(stored)
