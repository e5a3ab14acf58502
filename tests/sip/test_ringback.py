"""Ringing after an IVR's last key, heard in synthetic recordings with a known truth.

The person is the lab's real "Hello?" (8 kHz); ringback tones are the cadences in
use (UK 400+450 Hz 0.4/0.2/0.4/2.0 s, US 440+480 Hz 2/4 s, Europe 425 Hz 1/4 s);
a prompt is stood in for by bursts of a voiced sound, as in test_greeting.
"""

from datetime import UTC, datetime
from importlib.resources import files

import numpy as np
import pytest

from ringtest.core.records import AnsweredBy
from ringtest.core.standards import RingRule
from ringtest.sip.greeting import read_wav
from ringtest.sip.ivr import KEY_SECONDS, parse_ivr
from ringtest.sip.ivr_measure import measure_ivr
from ringtest.sip.ringback import hear_ringback
from ringtest.sip.timeline import SipTimeline

RATE_HZ = 8000
FRAME_TOLERANCE_SECONDS = 0.03
HELLO, HELLO_RATE_HZ = read_wav(files("ringtest.lab.audio") / "hello.wav")
CADENCES = {
    "UK": ((400.0, 450.0), (0.4, 0.2, 0.4, 2.0)),
    "US": ((440.0, 480.0), (2.0, 4.0)),
    "Europe": ((425.0,), (1.0, 4.0)),
}


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE_HZ))


def prompt(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 3 * t)) / RATE_HZ
    voiced = sum(np.sin(harmonic * phase) / harmonic**0.5 for harmonic in range(1, 16))
    return 2500 * voiced + 800 * rng.standard_normal(len(t))


def ringback(country: str, seconds: float) -> np.ndarray:
    """`seconds` of `country`'s ringback from the start of a ring (cut where it ends)."""
    frequencies, cadence = CADENCES[country]
    parts, total, index = [], 0.0, 0
    while total < seconds:
        length = min(cadence[index % len(cadence)], seconds - total)
        t = np.arange(round(length * RATE_HZ)) / RATE_HZ
        on = index % 2 == 0
        parts.append(sum(4000 * np.sin(2 * np.pi * hz * t) for hz in frequencies) * on)
        total, index = total + length, index + 1
    return np.concatenate(parts)


def audio(*parts: np.ndarray) -> np.ndarray:
    return np.clip(np.concatenate(parts), -32768, 32767).astype(np.int16)


def hello_then_waiting() -> np.ndarray:
    return np.concatenate([HELLO.astype(np.float64), silence(3.0)])


@pytest.mark.parametrize("country", CADENCES)
@pytest.mark.parametrize("ring_seconds", [4.3, 7.1, 12.0])
def test_ringback_of_any_cadence_is_heard_from_its_onset_to_the_answer(country, ring_seconds):
    recording = audio(
        prompt(1.0), silence(0.25), ringback(country, ring_seconds), hello_then_waiting()
    )
    heard = hear_ringback(recording, RATE_HZ, after_seconds=1.0, keys_seconds=KEY_SECONDS)
    assert heard.how_started == "ringback tone"
    assert heard.started_seconds == pytest.approx(1.25, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.ring_seconds == pytest.approx(ring_seconds, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.bursts >= 1


def test_an_answer_in_the_middle_of_a_ring_ends_it_where_the_tone_was_cut():
    """US ringback (2 s on) cut 0.7 s into its second ring; the person speaks 1 s later."""
    recording = audio(silence(0.5), ringback("US", 6.7), silence(1.0), hello_then_waiting())
    heard = hear_ringback(recording, RATE_HZ, after_seconds=0.3, keys_seconds=KEY_SECONDS)
    assert heard.how_ended == "a ring cut short"
    assert heard.ring_seconds == pytest.approx(6.7, abs=FRAME_TOLERANCE_SECONDS)


def test_ringback_on_a_noisy_line_is_still_heard():
    """At -45 dBFS of noise the first 50 ms of "Hello?" (a soft onset) are below the
    line's sound threshold: the answer is heard up to that much late."""
    rng = np.random.default_rng(5)
    clean = np.concatenate([silence(0.2), ringback("UK", 5.0), hello_then_waiting()])
    recording = audio(clean + 32768 * 10 ** (-45 / 20) * rng.standard_normal(len(clean)))
    heard = hear_ringback(recording, RATE_HZ, after_seconds=0.0, keys_seconds=KEY_SECONDS)
    assert heard.how_started == "ringback tone"
    assert heard.started_seconds == pytest.approx(0.2, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.ring_seconds == pytest.approx(5.0, abs=0.06)


def test_with_no_ringback_the_ring_starts_where_the_pbx_took_the_key():
    """The lab's Asterisk: the prompt stops as the key's event begins (0.08 s after we
    sent it, the jitter buffer's delay), the PBX dials as the event ends, then silence."""
    recording = audio(prompt(1.08), silence(4.3 + KEY_SECONDS), hello_then_waiting())
    heard = hear_ringback(recording, RATE_HZ, after_seconds=1.0, keys_seconds=KEY_SECONDS)
    assert heard.how_started == "the prompt stopped"
    assert heard.started_seconds == pytest.approx(1.08 + KEY_SECONDS, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.how_ended == "other sound"
    assert heard.ring_seconds == pytest.approx(4.3, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.bursts == 0


def test_a_click_just_after_the_prompt_stopped_does_not_hide_where_it_stopped():
    """Heard in the lab: 30 ms of sound 0.1 s after Asterisk cut its prompt."""
    recording = audio(
        prompt(1.04), silence(0.1), prompt(0.03), silence(4.3 + 0.03), hello_then_waiting()
    )
    heard = hear_ringback(recording, RATE_HZ, after_seconds=1.0, keys_seconds=KEY_SECONDS)
    assert heard.how_started == "the prompt stopped"
    assert heard.started_seconds == pytest.approx(1.04 + KEY_SECONDS, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.ring_seconds == pytest.approx(4.3, abs=FRAME_TOLERANCE_SECONDS)


def test_a_pause_between_the_prompts_words_is_not_the_prompt_stopping():
    recording = audio(prompt(1.1), silence(0.2), prompt(2.0), silence(3.0), hello_then_waiting())
    heard = hear_ringback(recording, RATE_HZ, after_seconds=1.0, keys_seconds=KEY_SECONDS)
    assert heard.how_started == "the key's end"
    assert heard.started_seconds == pytest.approx(1.0 + KEY_SECONDS, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.ended_seconds == pytest.approx(1.3, abs=FRAME_TOLERANCE_SECONDS)


def test_ringing_until_the_recording_ends_has_no_end():
    recording = audio(silence(0.2), ringback("UK", 9.0))
    heard = hear_ringback(recording, RATE_HZ, after_seconds=0.0, keys_seconds=KEY_SECONDS)
    assert heard.started_seconds == pytest.approx(0.2, abs=FRAME_TOLERANCE_SECONDS)
    assert heard.ended_seconds is None
    assert heard.ring_seconds is None


def test_an_empty_recording_hears_nothing():
    heard = hear_ringback(audio(silence(0.0)), RATE_HZ, after_seconds=0.0, keys_seconds=0.16)
    assert (heard.started_seconds, heard.ended_seconds, heard.bursts) == (None, None, 0)


# measure_ivr: the recording placed on the call's timeline.

RULE = RingRule(seconds_per_ring=3.0, answer_within_rings=7)
INVITE_SENT = 100.0
ANSWERED = 100.4
RECORDING_STARTED = 100.42


def timeline(keys_sent: float | None) -> SipTimeline:
    return SipTimeline(
        placed_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        invite_sent=INVITE_SENT,
        first_100=100.01,
        answered=ANSWERED,
        final_code=200,
        recording_started=RECORDING_STARTED,
        keys_sent=keys_sent,
    )


def test_a_menu_navigated_to_a_person_within_the_standard():
    keys_at = 2.0  # "w2 1": 2 s after the recording began (it began with the answer)
    recording = audio(prompt(2.0), silence(0.1), ringback("UK", 8.0), hello_then_waiting())
    measured = measure_ivr(
        timeline(RECORDING_STARTED + keys_at), parse_ivr("w2 1"), recording, RATE_HZ, RULE
    )
    assert measured.ivr_seconds == pytest.approx(2.02)
    assert measured.ring_seconds_after_ivr == pytest.approx(8.0, abs=FRAME_TOLERANCE_SECONDS)
    assert measured.rings_after_ivr == 3
    assert measured.greeting.answered_by is AnsweredBy.PERSON
    expected_to_person = RECORDING_STARTED + 2.1 + 8.0 - INVITE_SENT
    assert measured.to_person_seconds == pytest.approx(expected_to_person, abs=0.03)
    assert measured.within(RULE)


def test_a_menu_that_rings_past_the_standard_is_not_within_it():
    recording = audio(prompt(1.0), ringback("UK", 24.5), hello_then_waiting())
    measured = measure_ivr(
        timeline(RECORDING_STARTED + 1.0), parse_ivr("w1 1"), recording, RATE_HZ, RULE
    )
    assert measured.rings_after_ivr == 9
    assert measured.greeting.answered_by is AnsweredBy.PERSON
    assert not measured.within(RULE)


def test_a_menu_ringing_until_we_hung_up_reached_nobody():
    recording = audio(prompt(1.0), ringback("US", 30.0))
    measured = measure_ivr(
        timeline(RECORDING_STARTED + 1.0), parse_ivr("w1 1"), recording, RATE_HZ, RULE
    )
    assert measured.ring_seconds_after_ivr == pytest.approx(30.0, abs=FRAME_TOLERANCE_SECONDS)
    assert measured.rings_after_ivr == 10
    assert measured.greeting.answered_by is AnsweredBy.NONE
    assert measured.to_person_seconds is None
    assert not measured.within(RULE)


def test_keys_never_sent_measure_nothing_after_them():
    measured = measure_ivr(timeline(None), parse_ivr("w1 1"), audio(prompt(3.0)), RATE_HZ, RULE)
    assert measured.ring_seconds_after_ivr is None
    assert measured.greeting.answered_by is AnsweredBy.UNSURE
    assert not measured.within(RULE)
