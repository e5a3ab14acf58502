"""The greeting audit on speech we make with flite (16 kHz, its rms voice): did they
say the line's name, and greet us? And the stored audit of ring tests a person
answered, made in a worker process."""

from __future__ import annotations

import subprocess
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, Heard
from ringtest.sip.greeting_audit import (
    KEYPHRASE_THRESHOLD,
    MODEL_RATE_HZ,
    SPOTTING_BEAM,
    _at_model_rate,
    audit_greeting,
)
from ringtest.sources.greeting_audits import announce_phrases, audit_ring_tests
from ringtest.store import Store
from tests.store.builders import ring_test_result


def spoken(text: str, path: Path) -> Path:
    """`text` said by flite into a 16 kHz WAV at `path`, with 2 s of silence after."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["flite", "-voice", "rms", "-t", text, "-o", str(raw)], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-b", "16", str(path), "pad", "0", "2"], check=True
    )
    return path


def samples_of(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


@pytest.fixture(scope="module")
def housing(tmp_path_factory) -> Path:
    return spoken(
        "Good morning, Housing, Sam speaking.", tmp_path_factory.mktemp("audit") / "h.wav"
    )


def test_saying_the_department_is_announcing_the_name_and_a_greeting(housing):
    transcript, announced_name, greeted = audit_greeting(samples_of(housing), 16000, ["Housing"])
    assert (announced_name, greeted) == (Heard.YES, Heard.YES)
    assert transcript != ""


def test_another_department_was_not_announced(housing):
    _, announced_name, _ = audit_greeting(samples_of(housing), 16000, ["Planning"])
    assert announced_name is Heard.NO


def test_hello_alone_announces_no_name_but_greets(tmp_path):
    hello = spoken("Hello?", tmp_path / "hello.wav")
    _, announced_name, greeted = audit_greeting(samples_of(hello), 16000, ["Housing"])
    assert (announced_name, greeted) == (Heard.NO, Heard.YES)


def test_the_spotting_beam_keeps_every_phrase_the_threshold_accepts():
    assert SPOTTING_BEAM < KEYPHRASE_THRESHOLD


def test_a_phrase_the_dictionary_lacks_is_unsure(housing):
    _, announced_name, _ = audit_greeting(samples_of(housing), 16000, ["Xyzzyborough"])
    assert announced_name is Heard.UNSURE


def test_silence_is_unsure_of_both():
    assert audit_greeting(np.zeros(3 * 8000, dtype=np.int16), 8000, ["Housing"]) == (
        "",
        Heard.UNSURE,
        Heard.UNSURE,
    )


def test_8_khz_phone_audio_is_resampled_to_the_model_rate_keeping_its_pitch():
    tone = np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000) * 8000
    resampled = _at_model_rate(tone, 8000)
    assert len(resampled) == MODEL_RATE_HZ
    spectrum = np.abs(np.fft.rfft(resampled))
    assert np.argmax(spectrum) == 1000
    assert spectrum[5000:].max() < spectrum.max() / 100, "no image of the tone at 7 kHz"


def test_a_line_announces_its_own_phrases_or_else_its_department():
    settings = load_settings(
        overrides={
            "lines": [
                {"extension": "2001", "department": "Council Tax", "announce": ["council tax"]},
                {"extension": "2002", "department": "Housing"},
            ]
        },
        environ={},
    )
    assert announce_phrases(settings, "council tax") == ["council tax"]
    assert announce_phrases(settings, "Housing") == ["Housing"]
    assert announce_phrases(settings, "Planning") == ["Planning"]


def test_ring_tests_a_person_answered_are_audited_and_stored(housing, tmp_path):
    settings = load_settings(environ={})
    person = ring_test_result(department="Housing", evidence_path=str(housing))
    ivr = replace(person, test_id="rt-ivr", answered_by=AnsweredBy.IVR)
    with Store.open(f"sqlite:///{tmp_path}/ringtest.db") as store:
        [audit] = audit_ring_tests(settings, store, [person, ivr])
        assert audit.test_id == person.test_id
        assert (audit.announced_name, audit.greeted) == (Heard.YES, Heard.YES)
        assert store.greeting_audit(person.test_id) == audit
        assert store.greeting_audit("rt-ivr") is None
