"""Real ring-test calls from pjsua2 to sipp UAS peers on loopback.

Truth is the pause sipp makes between its provisional response and its 200 OK;
the measured ring time must land within 50 ms of it.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ringtest.core.errors import SipError
from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test
from ringtest.sip.endpoint import CALLS_PER_PROCESS
from ringtest.sip.pool import RingTestPool

TOLERANCE_SECONDS = 0.050
CADENCE = {"ring_rule": RingRule(seconds_per_ring=1.0, answer_within_rings=2)}


def test_ring_time_from_180_to_200_is_measured_within_50_ms(sip_endpoint, sipp_uas):
    uas = sipp_uas("ring_then_answer")
    result, timeline, _ = place_ring_test(
        sip_endpoint,
        "tester",
        uas.uri(),
        max_rings=5,
        extra_headers={"X-Ring-Ms": "1500"},
        timeout_seconds=10,
        **CADENCE,
    )
    assert result.outcome is RingTestOutcome.ANSWERED
    assert result.ring_seconds == pytest.approx(1.5, abs=TOLERANCE_SECONDS)
    assert result.rings == 2
    assert result.answered_by is AnsweredBy.UNSURE, "nothing recorded: who answered is unknown"
    assert not result.within_standard, "only a person answering counts"
    assert result.sip_code == 200
    assert timeline.first_100 is not None and timeline.first_183 is None
    assert result.pdd_seconds < TOLERANCE_SECONDS
    assert result.placed_at.tzinfo is not None


def test_ring_time_starts_at_a_183_with_sdp_before_the_180(sip_endpoint, sipp_uas):
    uas = sipp_uas("early_media_then_answer")
    result, timeline, _ = place_ring_test(
        sip_endpoint,
        "tester",
        uas.uri(),
        max_rings=5,
        extra_headers={"X-Early-Ms": "700", "X-Ring-Ms": "1100"},
        timeout_seconds=10,
        ring_rule=RingRule(seconds_per_ring=1.2, answer_within_rings=1),
    )
    assert timeline.first_183_had_sdp
    assert timeline.first_180 - timeline.first_183 == pytest.approx(0.7, abs=TOLERANCE_SECONDS)
    assert result.ring_seconds == pytest.approx(1.8, abs=TOLERANCE_SECONDS)
    assert result.outcome is RingTestOutcome.ANSWERED
    assert result.rings == 2, "two 1.2 s rings from the 183; from the 180 it would be one"
    assert not result.within_standard


def test_busy_here_is_busy_and_never_rang(sip_endpoint, sipp_uas):
    uas = sipp_uas("busy")
    result, _, _ = place_ring_test(
        sip_endpoint, "tester", uas.uri(), max_rings=5, timeout_seconds=10, **CADENCE
    )
    assert result.outcome is RingTestOutcome.BUSY
    assert result.sip_code == 486
    assert result.reason == "Busy Here"
    assert result.ring_seconds is None
    assert result.answered_by is AnsweredBy.NONE


def test_caller_hangs_up_after_max_rings_without_answer(sip_endpoint, sipp_uas):
    uas = sipp_uas("ring_forever")
    result, timeline, _ = place_ring_test(
        sip_endpoint,
        "tester",
        uas.uri(),
        max_rings=3,
        ring_rule=RingRule(seconds_per_ring=0.4, answer_within_rings=2),
        timeout_seconds=10,
    )
    assert result.outcome is RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS
    assert result.ring_seconds == pytest.approx(1.2, abs=TOLERANCE_SECONDS)
    assert result.rings == 3
    assert result.reason == "caller hung up while ringing"
    assert timeline.caller_hung_up
    assert timeline.answered is None


def test_target_where_nothing_listens_is_unreachable_at_the_timeout(sip_endpoint, silent_uri):
    result, timeline, _ = place_ring_test(
        sip_endpoint,
        "tester",
        silent_uri,
        max_rings=5,
        timeout_seconds=1.0,
        **CADENCE,
    )
    assert result.outcome is RingTestOutcome.UNREACHABLE
    assert result.reason == "no final response to INVITE"
    assert timeline.first_100 is None
    assert timeline.ended - timeline.invite_sent == pytest.approx(1.0, abs=TOLERANCE_SECONDS)


def test_twenty_concurrent_calls_across_a_pool_are_each_measured_within_50_ms(sipp_uas):
    uas = sipp_uas("ring_then_answer")
    ring_ms = [1000 + 50 * i for i in range(20)]
    with RingTestPool([SipAccount(name="tester", user="tester")], workers=5) as pool:
        futures = [
            pool.submit_ring_test(
                "tester",
                uas.uri(f"desk{ms}"),
                max_rings=5,
                extra_headers={"X-Ring-Ms": str(ms)},
                timeout_seconds=15,
                **CADENCE,
            )
            for ms in ring_ms
        ]
        placed = [future.result() for future in futures]
    assert [p.result.outcome for p in placed] == [RingTestOutcome.ANSWERED] * 20
    invites = [p.timeline.invite_sent for p in placed]
    assert max(invites) - min(invites) < 0.5, "all twenty calls were up at once"
    errors_ms = [
        abs(p.result.ring_seconds * 1000 - ms) for p, ms in zip(placed, ring_ms, strict=True)
    ]
    assert max(errors_ms) < TOLERANCE_SECONDS * 1000, errors_ms


def test_one_endpoint_queues_calls_beyond_its_four_slots(sip_endpoint, sipp_uas):
    uas = sipp_uas("ring_then_answer")

    def ring_test(desk: int):
        return place_ring_test(
            sip_endpoint,
            "tester",
            uas.uri(f"desk{desk}"),
            max_rings=5,
            extra_headers={"X-Ring-Ms": "300"},
            answered_hold_seconds=0.1,
            timeout_seconds=10,
            **CADENCE,
        )

    with ThreadPoolExecutor(max_workers=6) as threads:
        placed = list(threads.map(ring_test, range(6)))
    assert [p.result.outcome for p in placed] == [RingTestOutcome.ANSWERED] * 6
    assert [p.result.ring_seconds for p in placed] == [pytest.approx(0.3, abs=0.05)] * 6


def test_unknown_account_is_one_clear_line(sip_endpoint):
    with pytest.raises(SipError) as caught:
        place_ring_test(sip_endpoint, "nobody", "sip:2001@127.0.0.1:5060", max_rings=5, **CADENCE)
    assert str(caught.value) == (
        "SIP account 'nobody' is not set up: add it under [[sip.accounts]] in the config"
    )


def test_target_that_is_not_a_sip_uri_is_one_clear_line(sip_endpoint):
    with pytest.raises(SipError) as caught:
        place_ring_test(sip_endpoint, "tester", "2001@pbx", max_rings=5, **CADENCE)
    assert str(caught.value) == (
        "ring test target '2001@pbx' is not a SIP URI: write it like sip:2001@127.0.0.1:5060"
    )


def test_extra_header_with_a_bad_name_is_one_clear_line(sip_endpoint):
    with pytest.raises(SipError) as caught:
        place_ring_test(
            sip_endpoint,
            "tester",
            "sip:2001@127.0.0.1:5060",
            max_rings=5,
            extra_headers={"X Lab Answer": "2000"},
            **CADENCE,
        )
    assert str(caught.value) == (
        "extra SIP header name 'X Lab Answer' is not valid: use letters, digits and '-'"
    )


STALE_TRANSACTION_SECONDS = 32.0
"""pjsip keeps a UDP INVITE transaction that ended in an error for Timer D (32 s), then
reports its end, with its old status code, to the call that holds its slot by then."""


def test_a_busy_call_half_a_minute_earlier_does_not_end_the_next_call_as_busy(
    sip_endpoint, sipp_uas
):
    busy, ringing = sipp_uas("busy"), sipp_uas("ring_then_answer")

    def ring_test(ring_seconds: float):
        result, _, _ = place_ring_test(
            sip_endpoint,
            "tester",
            ringing.uri(),
            max_rings=20,
            extra_headers={"X-Ring-Ms": str(int(ring_seconds * 1000))},
            answered_hold_seconds=0.1,
            timeout_seconds=30,
            **CADENCE,
        )
        return result

    first, _, _ = place_ring_test(
        sip_endpoint, "tester", busy.uri(), max_rings=5, timeout_seconds=10, **CADENCE
    )
    assert first.outcome is RingTestOutcome.BUSY
    started = time.monotonic()
    for _ in range(CALLS_PER_PROCESS - 1):  # pjsua hands out call slots in turn
        assert ring_test(0.1).outcome is RingTestOutcome.ANSWERED
    ring_seconds = 12.0
    time.sleep(
        max(0.0, STALE_TRANSACTION_SECONDS - ring_seconds / 2 - (time.monotonic() - started))
    )
    result = ring_test(ring_seconds)
    assert time.monotonic() - started > STALE_TRANSACTION_SECONDS, "the old one ended meanwhile"
    assert (result.outcome, result.sip_code) == (RingTestOutcome.ANSWERED, 200)
    assert result.ring_seconds == pytest.approx(ring_seconds, abs=TOLERANCE_SECONDS)
