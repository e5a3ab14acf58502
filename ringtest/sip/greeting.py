"""Who answered, from the audio heard after the 200 OK: person, voicemail, IVR or unsure.

In the spirit of Asterisk's AMD (answering machine detection), over 20 ms frames:

* a frame is *sound* when its RMS level is above `SILENCE_RMS` and above
  `NOISE_MARGIN` times the line's noise floor (its quietest frames); a sound frame
  whose energy sits in one frequency between `BEEP_BAND_HZ` (Goertzel filters
  every `BEEP_STEP_HZ`) is *tone*, any other sound frame is *speech*;
* the *beep* is a pure tone (`BEEP_PURITY`) at one steady frequency for
  `BEEP_MIN_SECONDS` to `BEEP_MAX_SECONDS`, then quiet: a voicemail system
  listening for a message (Asterisk's beep is near 700 Hz, many are 1 kHz, some
  425 Hz). A held note of hold music is less pure and is followed by more music;
* *words* are runs of speech at least `MIN_WORD_SECONDS` long, split by at least
  `BETWEEN_WORDS_SILENCE_SECONDS` of non-speech;
* the *greeting* runs from the first word until a silence of at least
  `AFTER_GREETING_SILENCE_SECONDS`.

Then, first rule that applies: a beep is voicemail; no speech, or a long initial
silence, is unsure; a greeting of `MIN_IVR_PROMPT_SECONDS` or more without a
pause is an IVR (no one answering the phone talks that long before letting the
caller speak); a greeting of at most `MAX_PERSON_GREETING_SECONDS` followed by
little more speech is a person (someone said "Good morning, Housing" and is
waiting for us); a greeting followed by more prompts or music is an IVR;
anything else stays unsure rather than a guess. The thresholds were set on the
``tune`` half of the corpus in ``bench/greeting_corpus.csv`` and checked on its
held-out half (``bench/greeting_accuracy.py``, figures in bench/RESULTS.md).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ringtest.core.records import AnsweredBy

FRAME_SECONDS = 0.02
SILENCE_RMS = 100.0
"""16-bit RMS level below which a frame is always silence (about -50 dBFS)."""
NOISE_FLOOR_PERCENTILE = 10.0
NOISE_MARGIN = 2.5
"""a frame is sound only above NOISE_MARGIN x the line's noise floor (the RMS of
its quietest NOISE_FLOOR_PERCENTILE % of frames)."""
BEEP_BAND_HZ = (400.0, 2000.0)
BEEP_STEP_HZ = 25.0
TONE_FRACTION = 0.6
"""fraction of a frame's energy in one Goertzel filter above which the frame is tone."""
BEEP_PURITY = 0.9
"""a beep is one sine: over the corpus its frames hold >= 0.94 of their energy in one
filter (after G.711 or GSM); a held note of hold music held 0.71-0.86."""
BEEP_MIN_SECONDS = 0.2
BEEP_MAX_SECONDS = 3.0
BEEP_THEN_QUIET_SECONDS = 0.4
"""after its beep a voicemail listens: a tone followed by more sound (music) is no beep."""
BEEP_FADE_SECONDS = 0.2
"""after a beep's last tone frame, its tail (sound, but no longer one tone: a GSM
codec smears it) may last this long before the quiet."""
BEEP_DRIFT_HZ = 50.0
"""how far a beep's frequency may wander and still be one steady tone."""
MIN_WORD_SECONDS = 0.1
BETWEEN_WORDS_SILENCE_SECONDS = 0.06
AFTER_GREETING_SILENCE_SECONDS = 0.8
MAX_INITIAL_SILENCE_SECONDS = 2.5
MAX_PERSON_GREETING_SECONDS = 4.5
MAX_PERSON_FURTHER_SPEECH_SECONDS = 2.0
"""seconds of speech a person may add after the greeting (``Hello? ... Hello?``)."""
MIN_IVR_PROMPT_SECONDS = 5.0
"""a greeting this long without a pause is a recorded prompt, not a person."""
MIN_IVR_FURTHER_SPEECH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Greeting:
    """What was heard after the answer, and the verdict (all times float seconds from
    the start of the recording; None: not heard).

    words: words in the greeting. speech_seconds: all speech in the recording.
    reason: the rule that decided `answered_by`, for people reading the evidence.
    """

    answered_by: AnsweredBy
    reason: str
    initial_silence_seconds: float | None = None
    greeting_seconds: float | None = None
    words: int = 0
    speech_seconds: float = 0.0
    beep_at_seconds: float | None = None

    @classmethod
    def unheard(cls) -> Greeting:
        """The verdict when no audio was recorded."""
        return cls(AnsweredBy.UNSURE, "no audio was recorded")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit mono samples and their rate in Hz from a WAV file."""
    with wave.open(str(path)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path} is not 16-bit mono audio")
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return samples, wav.getframerate()


def classify_greeting(samples: np.ndarray, sample_rate: int) -> Greeting:
    """The verdict on 16-bit `samples` at `sample_rate` Hz heard after an answer."""
    frame_length = round(sample_rate * FRAME_SECONDS)
    frame_count = len(samples) // frame_length
    frames = samples[: frame_count * frame_length].astype(np.float64)
    frames = frames.reshape(frame_count, frame_length)
    rms = np.sqrt((frames**2).mean(axis=1))
    sound = rms >= sound_threshold(rms)
    tone_hz, purity = _tone_frequencies(frames, sample_rate)
    tone = sound & ~np.isnan(tone_hz)
    speech = sound & ~tone
    beep_frame = _first_beep(tone_hz, purity, tone, sound)
    words = frame_runs(speech, gap=_frames(BETWEEN_WORDS_SILENCE_SECONDS))
    words = [(start, end) for start, end in words if end - start >= _frames(MIN_WORD_SECONDS)]
    speech_seconds = float(speech.sum()) * FRAME_SECONDS
    if beep_frame is not None:
        return Greeting(
            AnsweredBy.VOICEMAIL,
            "a voicemail beep",
            words=len(words),
            speech_seconds=speech_seconds,
            beep_at_seconds=float(beep_frame * FRAME_SECONDS),
        )
    if not words:
        return Greeting(AnsweredBy.UNSURE, "no speech was heard")
    greeting_end = _greeting_end(words)
    greeting_words = [word for word in words if word[1] <= greeting_end]
    heard = {
        "initial_silence_seconds": float(words[0][0] * FRAME_SECONDS),
        "greeting_seconds": float((greeting_end - words[0][0]) * FRAME_SECONDS),
        "words": len(greeting_words),
        "speech_seconds": speech_seconds,
    }
    further_speech = float(speech[greeting_end:].sum()) * FRAME_SECONDS
    if heard["initial_silence_seconds"] > MAX_INITIAL_SILENCE_SECONDS:
        return Greeting(AnsweredBy.UNSURE, "a long silence before anyone spoke", **heard)
    if heard["greeting_seconds"] >= MIN_IVR_PROMPT_SECONDS:
        return Greeting(AnsweredBy.IVR, "a long prompt at once", **heard)
    if (
        heard["greeting_seconds"] <= MAX_PERSON_GREETING_SECONDS
        and further_speech <= MAX_PERSON_FURTHER_SPEECH_SECONDS
    ):
        return Greeting(AnsweredBy.PERSON, "a short greeting, then waiting for us", **heard)
    if further_speech >= MIN_IVR_FURTHER_SPEECH_SECONDS:
        return Greeting(AnsweredBy.IVR, "a prompt, then more prompts or music", **heard)
    return Greeting(AnsweredBy.UNSURE, "neither a short greeting nor a long prompt", **heard)


def sound_threshold(rms: np.ndarray) -> float:
    """The RMS level above which a frame is sound: SILENCE_RMS, or well above the
    line's noise floor (its quietest frames) on a noisy line."""
    floor = float(np.percentile(rms, NOISE_FLOOR_PERCENTILE)) if len(rms) else 0.0
    return max(SILENCE_RMS, floor * NOISE_MARGIN)


def _frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_SECONDS))


def _tone_frequencies(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the frequency (Hz) of the Goertzel filter holding at least
    TONE_FRACTION of its energy (NaN when none does), and the fraction of the frame's
    energy in its strongest filter."""
    candidates = np.arange(BEEP_BAND_HZ[0], BEEP_BAND_HZ[1] + BEEP_STEP_HZ, BEEP_STEP_HZ)
    coefficients = 2.0 * np.cos(2.0 * np.pi * candidates / sample_rate)
    previous = np.zeros((len(frames), len(candidates)))
    before = np.zeros_like(previous)
    for column in frames.T:  # Goertzel recursion, all frames and filters at once
        previous, before = column[:, None] + coefficients * previous - before, previous
    power = previous**2 + before**2 - coefficients * previous * before
    energy = (frames**2).sum(axis=1)
    fraction = 2.0 * power / (frames.shape[1] * np.maximum(energy, 1e-9)[:, None])
    best = fraction.argmax(axis=1)
    strongest = fraction[np.arange(len(frames)), best]
    return np.where(strongest >= TONE_FRACTION, candidates[best], np.nan), strongest


def _first_beep(
    tone_hz: np.ndarray, purity: np.ndarray, tone: np.ndarray, sound: np.ndarray
) -> int | None:
    """The first frame of a beep: a run of BEEP_MIN_SECONDS to BEEP_MAX_SECONDS of pure
    tone (median `purity` at least BEEP_PURITY) within BEEP_DRIFT_HZ, then quiet
    (BEEP_THEN_QUIET_SECONDS without sound after its fade; a tone the recording cuts
    off is not known to be a beep); None if none."""
    for start, end in _steady_tones(tone_hz, tone):
        length = end - start
        quiet_from = end + _frames(BEEP_FADE_SECONDS)
        after = sound[quiet_from : quiet_from + _frames(BEEP_THEN_QUIET_SECONDS)]
        heard_quiet = len(after) == _frames(BEEP_THEN_QUIET_SECONDS) and not after.any()
        pure = np.median(purity[start:end]) >= BEEP_PURITY
        if (
            _frames(BEEP_MIN_SECONDS) <= length <= _frames(BEEP_MAX_SECONDS)
            and pure
            and heard_quiet
        ):
            return start
    return None


def _steady_tones(tone_hz: np.ndarray, tone: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of tone frames, each within BEEP_DRIFT_HZ of its first frame."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, is_tone in enumerate(tone):
        steady = start is not None and abs(tone_hz[index] - tone_hz[start]) <= BEEP_DRIFT_HZ
        if start is not None and not steady:
            runs.append((start, index))
            start = None
        if is_tone and start is None:
            start = index
    if start is not None:
        runs.append((start, len(tone)))
    return runs


def frame_runs(active: np.ndarray, gap: int, first: int = 0) -> list[tuple[int, int]]:
    """[start, end) frame runs of `active` from frame `first` on, joining runs split by
    fewer than `gap` frames."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(active[first:]) + first:
        if runs and index - runs[-1][1] < gap:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def _greeting_end(words: list[tuple[int, int]]) -> int:
    """End frame of the last word before the first AFTER_GREETING_SILENCE gap."""
    pause = _frames(AFTER_GREETING_SILENCE_SECONDS)
    for (_, end), (next_start, _) in zip(words, words[1:], strict=False):
        if next_start - end >= pause:
            return end
    return words[-1][1]


def _silence_after(speech: np.ndarray, frame: int) -> int:
    """Frames without speech from `frame` to the next speech (or the end)."""
    later = np.flatnonzero(speech[frame:])
    return int(later[0]) if len(later) else len(speech) - frame
