"""The who-answered classifier on synthetic audio with a known answer.

Speech is stood in for by bursts of a voiced sound (harmonics of a wandering
pitch plus noise): loud, but with its energy spread over many frequencies, as
in real speech. A beep is one steady sine.
"""

import numpy as np
import pytest

from ringtest.core.records import AnsweredBy
from ringtest.sip.greeting import classify_greeting, read_wav

RATE_HZ = 16000


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE_HZ))


def word(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    pitch_hz = 140 + 30 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(pitch_hz) / RATE_HZ
    voiced = sum(np.sin(harmonic * phase) / harmonic**0.5 for harmonic in range(1, 16))
    return 2500 * voiced + 800 * rng.standard_normal(len(t))


def words(count: int, seconds: float = 0.35, gap: float = 0.15) -> np.ndarray:
    return np.concatenate(
        [np.concatenate([word(seconds, seed), silence(gap)]) for seed in range(count)]
    )


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    return 8000 * np.sin(2 * np.pi * hz * t)


def noise(dbfs: float, seconds: float = 15) -> np.ndarray:
    rng = np.random.default_rng(7)
    return 32768 * 10 ** (dbfs / 20) * rng.standard_normal(round(seconds * RATE_HZ))


def audio(*parts: np.ndarray) -> np.ndarray:
    return np.clip(np.concatenate(parts), -32768, 32767).astype(np.int16)


def test_hello_then_waiting_is_a_person():
    greeting = classify_greeting(audio(silence(0.3), word(0.5), silence(7)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.PERSON
    assert greeting.words == 1
    assert greeting.initial_silence_seconds == pytest.approx(0.3, abs=0.03)
    assert greeting.greeting_seconds == pytest.approx(0.5, abs=0.05)


def test_a_person_who_says_hello_twice_is_still_a_person():
    heard = audio(word(0.5), silence(2), word(0.5), silence(5))
    assert classify_greeting(heard, RATE_HZ).answered_by is AnsweredBy.PERSON


@pytest.mark.parametrize("beep_hz", [700, 1000, 1400])
def test_a_long_greeting_ending_in_a_steady_beep_is_voicemail(beep_hz):
    heard = audio(silence(0.2), words(14), tone(beep_hz, 0.5), silence(1))
    greeting = classify_greeting(heard, RATE_HZ)
    assert greeting.answered_by is AnsweredBy.VOICEMAIL
    assert greeting.beep_at_seconds == pytest.approx(0.2 + 14 * 0.5, abs=0.05)


def test_a_beep_shorter_than_200_ms_is_not_a_voicemail_beep():
    greeting = classify_greeting(audio(words(14), tone(1000, 0.1), silence(1)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.IVR
    assert greeting.reason == "a long prompt at once"


def test_a_beep_at_425_hz_on_a_noisy_line_is_voicemail():
    heard = np.concatenate([words(8), silence(0.3), tone(425, 0.5), silence(3)])
    greeting = classify_greeting(audio(heard + noise(-50, len(heard) / RATE_HZ)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.VOICEMAIL
    assert greeting.beep_at_seconds == pytest.approx(8 * 0.5 + 0.3, abs=0.05)


def test_a_held_note_of_hold_music_is_no_beep():
    note = sum(tone(660 * harmonic, 0.8) / harmonic**1.5 for harmonic in (1, 2, 3))
    heard = audio(word(0.8), silence(0.3), note, silence(1), word(3, seed=1), silence(3))
    assert classify_greeting(heard, RATE_HZ).answered_by is not AnsweredBy.VOICEMAIL


def test_a_tone_the_recording_cuts_off_is_no_beep():
    greeting = classify_greeting(audio(word(0.8), silence(5), tone(1000, 0.5)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.PERSON


def test_a_menu_prompt_then_a_pause_for_a_key_then_the_prompt_again_is_an_ivr():
    greeting = classify_greeting(audio(words(6), silence(5), words(6)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.IVR
    assert greeting.reason == "a prompt, then more prompts or music"
    assert greeting.words == 6


def test_a_three_second_greeting_then_waiting_is_a_person():
    """Saying "Good afternoon, Council Tax, you're through to Jo." takes about 3 s."""
    greeting = classify_greeting(audio(words(6), silence(8)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.PERSON
    assert greeting.greeting_seconds == pytest.approx(2.85, abs=0.1)


def test_a_long_prompt_at_once_is_an_ivr():
    """Issue 15: a stock menu spoken for 20 s without a pause was "unsure"; it is an IVR."""
    greeting = classify_greeting(audio(words(16)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.IVR
    assert greeting.reason == "a long prompt at once"


def test_a_greeting_between_a_person_and_a_prompt_then_silence_is_unsure():
    greeting = classify_greeting(audio(words(10)[: round(4.8 * RATE_HZ)], silence(8)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.UNSURE
    assert greeting.reason == "neither a short greeting nor a long prompt"


def test_silence_is_unsure():
    greeting = classify_greeting(audio(silence(8)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.UNSURE
    assert greeting.reason == "no speech was heard"


def test_speaking_only_after_a_long_silence_is_unsure():
    greeting = classify_greeting(audio(silence(3), word(0.5), silence(4)), RATE_HZ)
    assert greeting.answered_by is AnsweredBy.UNSURE


def test_an_8_khz_recording_is_read_the_same(tmp_path):
    import wave

    heard = audio(word(0.5), silence(5))[::2]
    path = tmp_path / "hello.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(heard.tobytes())
    samples, rate = read_wav(path)
    assert rate == 8000
    assert classify_greeting(samples, rate).answered_by is AnsweredBy.PERSON
