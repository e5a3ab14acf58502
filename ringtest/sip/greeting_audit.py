"""The greeting audit: did the person who answered say the line's name, and greet us?

The council's standard asks staff to "clearly announce our name and greet the
caller courteously". After a ring test, the first `AUDIT_SECONDS` of its evidence
WAV are heard by pocketsphinx 5 (CMU Sphinx, offline; its US-English acoustic
model, dictionary and language model ship inside the PyPI wheel, nothing is
fetched at run time). Phone audio at 8 kHz is resampled to the model's 16 kHz
(zero-stuffing and a windowed-sinc low-pass).

Two passes over the same audio:

* a *transcript* with the shipped general language model, for people reading the
  evidence (on telephone audio it is rough: names and departments are often
  misheard, so no verdict is read from it);
* *keyphrase spotting* of the line's `announce` phrases and the greeting phrases
  (each phrase scored against a free loop of phones, accepted above
  `KEYPHRASE_THRESHOLD` inside a beam wide enough to keep it), which decides
  `announced_name` and `greeted`: yes when a phrase was spotted, no when there
  was speech and none was, unsure when nothing was said or a phrase has a word
  the dictionary lacks.

Decoding costs about a second of CPU per test, so it runs after the call, in a
process of its own (`ringtest.sources.greeting_audits`), never on the SIP
endpoint's thread. Importing this module loads no model; the first audit does.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from ringtest.core.records import Heard
from ringtest.core.standards import GREETING_PHRASES
from ringtest.sip.greeting import read_wav

AUDIT_SECONDS = 6.0
"""seconds after the answer that are transcribed: a greeting is said in the first few."""
MODEL_RATE_HZ = 16000
KEYPHRASE_THRESHOLD = 1e-50
"""pocketsphinx's keyphrase detection threshold (how much less likely than the free
phone loop a phrase may be and still count as said), set on the ``tune`` people of
the greeting corpus (bench/greeting_audit.py). Looser hears more names on the
robotic voices (1e-65: 80 % right on tune, 5 % false yes) but says yes to names
never said in clear speech (from 1e-55 flite's "Good morning, Housing" is heard
as "Planning", from 1e-60 its "Hello?" as "Housing")."""
SPOTTING_BEAM = 1e-80
"""pocketsphinx's beam and phone beam while spotting: a phrase's path is pruned once
it falls this far behind the best, so the beam must be wider than
`KEYPHRASE_THRESHOLD` (the default 1e-48 capped every threshold below it)."""
SPEECH_RMS = 100.0
"""16-bit RMS of the loudest 20 ms frame below which nothing was said (about -50 dBFS)."""
SINC_TAPS = 32
_WORD = re.compile(r"[a-z']+")


def audit_greeting(
    samples: np.ndarray,
    sample_rate: int,
    announce: Sequence[str],
    greetings: Sequence[str] = GREETING_PHRASES,
    *,
    transcribe: bool = True,
) -> tuple[str, Heard, Heard]:
    """(transcript, announced_name, greeted) of 16-bit `samples` at `sample_rate` Hz;
    without `transcribe` the transcript is "" (the verdicts never read it)."""
    heard = _at_model_rate(samples[: round(AUDIT_SECONDS * sample_rate)], sample_rate)
    if len(heard) == 0 or _loudest_frame_rms(heard) < SPEECH_RMS:
        return "", Heard.UNSURE, Heard.UNSURE
    audio = np.clip(np.round(heard), -32768, 32767).astype("<i2").tobytes()
    transcript = _transcribe(audio) if transcribe else ""
    spotted = _spot(audio, tuple(_phrases(announce)) + tuple(_phrases(greetings)))
    return transcript, _judge(announce, spotted), _judge(greetings, spotted)


def audit_wav(
    path: Path, announce: Sequence[str], greetings: Sequence[str]
) -> tuple[str, Heard, Heard]:
    """`audit_greeting` of the evidence WAV at `path` (what a worker process runs)."""
    return audit_greeting(*read_wav(path), announce, greetings)


def phrase_words(phrase: str) -> list[str]:
    """The dictionary words of `phrase`: lower case, punctuation dropped."""
    return _WORD.findall(phrase.lower())


def _phrases(phrases: Sequence[str]) -> list[str]:
    dictionary = _dictionary()
    return [
        " ".join(phrase_words(phrase))
        for phrase in phrases
        if phrase_words(phrase) and all(word in dictionary for word in phrase_words(phrase))
    ]


def _judge(phrases: Sequence[str], spotted: set[str]) -> Heard:
    known = _phrases(phrases)
    if any(phrase in spotted for phrase in known):
        return Heard.YES
    if len(known) < len(phrases):
        return Heard.UNSURE
    return Heard.NO


def _transcribe(audio: bytes) -> str:
    decoder = _transcriber()
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(audio, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def _spot(audio: bytes, phrases: tuple[str, ...]) -> set[str]:
    """The `phrases` keyphrase spotting found in `audio` (16 kHz, 16-bit). The
    decoder's features are set afresh first: its noise estimate otherwise carries
    over, and one ring test's verdict would depend on the one audited before."""
    if not phrases:
        return set()
    decoder = _spotter(tuple(sorted(set(phrases))))
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(audio, full_utt=True)
    decoder.end_utt()
    return {segment.word.strip() for segment in decoder.seg() or []}


@cache
def _transcriber():
    from pocketsphinx import Decoder

    return Decoder(samprate=MODEL_RATE_HZ, loglevel="FATAL")


@cache
def _spotter(phrases: tuple[str, ...]):
    from pocketsphinx import Decoder

    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "phrases.kws"
        listing.write_text("".join(f"{p} /{KEYPHRASE_THRESHOLD:g}/\n" for p in phrases))
        return Decoder(
            samprate=MODEL_RATE_HZ,
            loglevel="FATAL",
            kws=str(listing),
            beam=SPOTTING_BEAM,
            pbeam=SPOTTING_BEAM,
        )


@cache
def _dictionary() -> frozenset[str]:
    from pocketsphinx import get_model_path

    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    with path.open(encoding="utf-8") as entries:
        return frozenset(line.split(" ", 1)[0] for line in entries if line.strip())


def _at_model_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """`samples` (float) at MODEL_RATE_HZ: zero-stuffed and low-passed when the model
    rate is a whole multiple of `sample_rate`, linearly interpolated otherwise."""
    samples = samples.astype(np.float64)
    if sample_rate == MODEL_RATE_HZ or len(samples) == 0:
        return samples
    factor = MODEL_RATE_HZ // sample_rate
    if factor * sample_rate != MODEL_RATE_HZ:
        times = np.arange(round(len(samples) * MODEL_RATE_HZ / sample_rate)) / MODEL_RATE_HZ
        return np.interp(times, np.arange(len(samples)) / sample_rate, samples)
    stuffed = np.zeros(len(samples) * factor)
    stuffed[::factor] = samples * factor
    taps = np.arange(-SINC_TAPS, SINC_TAPS + 1)
    low_pass = np.sinc(taps / factor) / factor * np.hamming(len(taps))
    return np.convolve(stuffed, low_pass, mode="same")


def _loudest_frame_rms(samples: np.ndarray) -> float:
    frame = MODEL_RATE_HZ // 50
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    return float(np.sqrt((frames**2).mean(axis=1)).max()) if len(frames) else 0.0
