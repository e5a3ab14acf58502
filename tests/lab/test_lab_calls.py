"""Real calls through the lab PBX to every department, answered by the sipp staff agents.

All calls run at once (the voicemail one takes ~12 s, the rest a few seconds),
so the module stays fast and the staff agents prove they take concurrent calls.
Timings are sipp's own millisecond clock from the authenticated INVITE.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ringtest.lab.accounts import (
    CITIZEN,
    DEFAULT_ANSWER_MS,
    RINGTESTER,
    VOICEMAIL_RING_SECONDS,
    SipAccount,
)
from ringtest.lab.calls import LabCallResult, lab_call
from ringtest.lab.pbx import LabStatus

pytestmark = pytest.mark.lab

CALLS: dict[str, tuple[str, SipAccount, str | None, int]] = {
    # name: (target, account, X-Lab-Answer, give_up_ms)
    "council_tax_1000": ("2001", CITIZEN, "1000", 0),
    "council_tax_by_number": ("+441382434001", RINGTESTER, "300", 0),
    "council_tax_default": ("2001", CITIZEN, None, 0),
    "council_tax_staff_busy": ("2001", RINGTESTER, "busy", 0),
    "council_tax_caller_gives_up": ("2001", CITIZEN, "never", 1500),
    "council_tax_after_cancel": ("2001", RINGTESTER, "200", 0),
    "housing_ring_group": ("2002", CITIZEN, "800", 0),
    "benefits_queue": ("2003", CITIZEN, "700", 0),
    "switchboard_ivr": ("2000", CITIZEN, None, 0),
    "planning_voicemail": ("2004", CITIZEN, "never", 0),
    "licensing_busy": ("2005", CITIZEN, None, 0),
}


@pytest.fixture(scope="module")
def calls(lab: LabStatus) -> dict[str, LabCallResult]:
    with ThreadPoolExecutor(max_workers=len(CALLS)) as pool:
        futures = {
            name: pool.submit(
                lab_call, target, account=account, answer=answer, give_up_ms=give_up_ms
            )
            for name, (target, account, answer, give_up_ms) in CALLS.items()
            if name != "council_tax_after_cancel"
        }
        results = {name: future.result() for name, future in futures.items()}
    target, account, answer, _ = CALLS["council_tax_after_cancel"]
    results["council_tax_after_cancel"] = lab_call(target, account=account, answer=answer)
    return results


def test_person_answers_after_the_requested_1000_ms(calls: dict[str, LabCallResult]) -> None:
    call = calls["council_tax_1000"]
    assert call.answered
    assert call.ringing_ms is not None and call.ringing_ms < 500
    assert call.final_ms is not None and 1000 <= call.final_ms < 2000


def test_e164_alias_reaches_the_same_person(calls: dict[str, LabCallResult]) -> None:
    call = calls["council_tax_by_number"]
    assert call.answered
    assert call.final_ms is not None and 300 <= call.final_ms < 1300


def test_staff_answer_after_their_default_without_the_header(
    calls: dict[str, LabCallResult],
) -> None:
    call = calls["council_tax_default"]
    assert call.answered
    assert call.final_ms is not None
    assert DEFAULT_ANSWER_MS <= call.final_ms < DEFAULT_ANSWER_MS + 1000


def test_busy_staff_make_the_caller_hear_486(calls: dict[str, LabCallResult]) -> None:
    assert calls["council_tax_staff_busy"].final_code == 486


def test_caller_giving_up_while_ringing_gets_487(calls: dict[str, LabCallResult]) -> None:
    call = calls["council_tax_caller_gives_up"]
    assert call.cancelled
    assert call.final_code == 487
    assert call.ringing_ms is not None


def test_staff_agent_answers_the_next_call_after_a_cancel(
    calls: dict[str, LabCallResult],
) -> None:
    assert calls["council_tax_after_cancel"].answered


def test_ring_group_is_answered(calls: dict[str, LabCallResult]) -> None:
    call = calls["housing_ring_group"]
    assert call.answered
    assert call.final_ms is not None and 800 <= call.final_ms < 1800


def test_queue_rings_the_caller_and_an_agent_answers(calls: dict[str, LabCallResult]) -> None:
    call = calls["benefits_queue"]
    assert call.ringing_ms is not None
    assert call.answered
    assert call.final_ms is not None and 700 <= call.final_ms < 2700


def test_ivr_answers_at_once(calls: dict[str, LabCallResult]) -> None:
    call = calls["switchboard_ivr"]
    assert call.answered
    assert call.final_ms is not None and call.final_ms < 500


def test_unanswered_planning_line_goes_to_voicemail_after_12_s(
    calls: dict[str, LabCallResult],
) -> None:
    call = calls["planning_voicemail"]
    assert call.answered
    assert call.final_ms is not None
    assert VOICEMAIL_RING_SECONDS * 1000 <= call.final_ms < VOICEMAIL_RING_SECONDS * 1000 + 1500


def test_licensing_line_is_busy(calls: dict[str, LabCallResult]) -> None:
    call = calls["licensing_busy"]
    assert call.final_code == 486
    assert call.ringing_ms is None
