"""Ringing heard as audio: the ringback tone after an IVR's last key, and when it ended.

A menu answers the call first, so when the caller's key makes the PBX dial a
person no SIP 180 can reach the caller any more: the PBX plays its ringback
tone into the answered call instead. The rings the standard counts are then
read from the received audio, here, with no clock, socket or configuration.

Theory of operation, over `FRAME_SECONDS` frames of the recording:

* a frame is *sound* when its RMS level is above `greeting.sound_threshold`
  (the same noise-adaptive level the greeting classifier uses);
* a sound frame is *tone* when at least `TONE_BAND_FRACTION` of the energy of the
  `SPECTRUM_SECONDS` around it lies in `RINGBACK_BAND_HZ`. Every ringback tone
  in use sits there: UK 400+450 Hz, US 440+480 Hz, most of Europe 425 Hz;
  speech, music and prompts spread their energy far wider;
* a *burst* is a run of tone frames at least `MIN_BURST_SECONDS` long (small
  gaps of a codec or jitter buffer joined); ringback is bursts with an on/off
  cadence (UK 0.4 on 0.2 off 0.4 on 2.0 off; US 2 on 4 off), so the cadence
  itself is not assumed, only read from the bursts heard;
* ringing *starts* at the first burst after the last key; with no tone, where
  the PBX took the key: the prompt playing when the key was sent stops as the
  key's RFC 4733 event begins, and the PBX acts (dials) as it ends, the key's
  length later (some PBXs play no ringback at all, e.g. an Asterisk without an
  ``indications.conf``: the ringing is silence); with no prompt playing, at the
  key's end by the wire;
* ringing *ends* at the first sound after it that is no tone (the person, or
  whatever answered, speaking), or where a burst was cut short (shorter by
  `CUT_BURST_SECONDS` than the shortest whole burst before it: answered in the
  middle of a ring), whichever is first. Ringing that is still going, or that
  stopped into silence between two rings, has no known end: `ended_seconds` None.

The error is a frame or two at each edge; both edges pass through the same
jitter buffer, so most of its delay cancels in the difference (the lab, with its
UK ringback: +10 ms). Timed from a prompt stopping instead, what the PBX does
while it connects the person does not cancel: an Asterisk with no ringback drops
the first 80 ms of the person's audio while it bridges, heard as a later answer
(the lab without its indications.conf: -0.01 to +0.06 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ringtest.sip.greeting import frame_runs, sound_threshold

FRAME_SECONDS = 0.01
SPECTRUM_SECONDS = 0.04
"""seconds of audio around each frame whose spectrum decides tone or not (25 Hz bins)."""
RINGBACK_BAND_HZ = (330.0, 500.0)
"""Ringback tones' frequencies (350-480 Hz), with room for a window's spread."""
TONE_BAND_FRACTION = 0.75
MIN_BURST_SECONDS = 0.15
BURST_GAP_SECONDS = 0.03
"""tone frames split by less than this are one burst (a lost packet, a codec edge)."""
MIN_OTHER_SOUND_SECONDS = 0.05
"""non-tone sound shorter than this (a click) does not end the ringing."""
CUT_BURST_SECONDS = 0.1
KEY_TAKEN_SECONDS = 1.0
"""a prompt a PBX stops because of our key stops within this long of the key."""
PROMPT_STOPPED_SECONDS = 0.5
"""silence this long ends a prompt; the pauses between its words are shorter."""
PROMPT_LEVEL_SECONDS = 0.3
PROMPT_DROP = 0.25
"""a prompt has stopped where its level falls below this share of its level before."""
PROMPT_TAIL_SECONDS = 0.1
"""the faint tail of a cut prompt (a codec's or resampler's ring-down) lasts at most this."""


@dataclass(frozen=True, slots=True)
class RingbackHeard:
    """The ringback in a recording, in float seconds from the recording's start.

    started_seconds: where the ringing began; None: no audio after the key.
    ended_seconds: where ringing gave way to an answer; None: not heard to end.
    bursts: ringback bursts heard, the last one possibly cut short (0: a silent ring).
    how_started: "ringback tone", "the prompt stopped" or "the key's end".
    how_ended: what marked the end ("other sound", "a ring cut short"), "" if none.
    """

    started_seconds: float | None
    ended_seconds: float | None
    bursts: int
    how_started: str = ""
    how_ended: str = ""

    @property
    def ring_seconds(self) -> float | None:
        """float seconds of ringback heard before the answer; None unless both ends heard."""
        if self.started_seconds is None or self.ended_seconds is None:
            return None
        return self.ended_seconds - self.started_seconds


def hear_ringback(
    samples: np.ndarray,
    sample_rate: int,
    *,
    after_seconds: float,
    keys_seconds: float,
) -> RingbackHeard:
    """The ringing in 16-bit `samples` at `sample_rate` Hz after the last key.

    after_seconds: float seconds into the recording when the last keys were sent.
    keys_seconds: float seconds their RFC 4733 events last: a PBX stops its prompt
        as the key's event begins, and takes the key (and dials) as it ends.
    """
    frame_length = round(sample_rate * FRAME_SECONDS)
    frame_count = len(samples) // frame_length
    if frame_count == 0:
        return RingbackHeard(None, None, 0)
    audio = samples[: frame_count * frame_length].astype(np.float64)
    rms = np.sqrt((audio.reshape(frame_count, frame_length) ** 2).mean(axis=1))
    sound = rms >= sound_threshold(rms)
    tone = sound & (_band_fraction(audio, sample_rate, frame_length) >= TONE_BAND_FRACTION)
    first = _frame_at(after_seconds, frame_count)
    bursts = [
        (start, end)
        for start, end in frame_runs(tone, _frames(BURST_GAP_SECONDS), first)
        if end - start >= _frames(MIN_BURST_SECONDS)
    ]
    starts = {
        "ringback tone": bursts[0][0] if bursts else None,
        "the prompt stopped": _key_taken(_prompt_stopped(rms, sound, first), keys_seconds),
        "the key's end": _frame_at(after_seconds + keys_seconds, frame_count),
    }
    how_started, started = next((how, at) for how, at in starts.items() if at is not None)
    other = sound & ~tone & ~_within(bursts, frame_count)
    answers = [
        start
        for start, end in frame_runs(other, 1, started)
        if end - start >= _frames(MIN_OTHER_SOUND_SECONDS)
    ]
    other_sound_at = answers[0] if answers else None
    heard = [burst for burst in bursts if other_sound_at is None or burst[0] < other_sound_at]
    ends = {"other sound": other_sound_at, "a ring cut short": _cut_short(heard, frame_count)}
    known = {how: frame for how, frame in ends.items() if frame is not None}
    how_ended = min(known, key=known.__getitem__) if known else ""
    return RingbackHeard(
        started_seconds=float(started * FRAME_SECONDS),
        ended_seconds=float(known[how_ended] * FRAME_SECONDS) if known else None,
        bursts=len(heard),
        how_started=how_started,
        how_ended=how_ended,
    )


def _frame_at(seconds: float, frame_count: int) -> int:
    return min(frame_count, max(0, round(seconds / FRAME_SECONDS)))


def _key_taken(prompt_stopped: int | None, keys_seconds: float) -> int | None:
    """The frame the PBX took the key: `keys_seconds` after the prompt stopped."""
    return None if prompt_stopped is None else prompt_stopped + round(keys_seconds / FRAME_SECONDS)


def _prompt_stopped(rms: np.ndarray, sound: np.ndarray, first: int) -> int | None:
    """The frame where the sound playing when the key was sent (the menu's prompt)
    dropped below PROMPT_DROP of its level just before and, after a faint tail of
    PROMPT_TAIL_SECONDS, fell silent (but for a click shorter than
    MIN_OTHER_SOUND_SECONDS) for PROMPT_STOPPED_SECONDS, within
    KEY_TAKEN_SECONDS of the key; None when nothing was playing or it went on."""
    if first >= len(sound) or not sound[first]:
        return None
    level = float(np.median(rms[max(0, first - _frames(PROMPT_LEVEL_SECONDS)) : first + 1]))
    for frame in range(first, min(len(rms), first + _frames(KEY_TAKEN_SECONDS))):
        if rms[frame] >= PROMPT_DROP * level:
            continue
        silent_from = frame + _frames(PROMPT_TAIL_SECONDS)
        quiet = sound[silent_from : silent_from + _frames(PROMPT_STOPPED_SECONDS)]
        clicks = int(quiet.sum())
        if len(quiet) == _frames(PROMPT_STOPPED_SECONDS) and clicks < _frames(
            MIN_OTHER_SOUND_SECONDS
        ):
            return frame
    return None


def _band_fraction(audio: np.ndarray, sample_rate: int, frame_length: int) -> np.ndarray:
    """Per frame, the share of the energy around it (SPECTRUM_SECONDS, Hann window)
    that lies in RINGBACK_BAND_HZ."""
    window_length = round(sample_rate * SPECTRUM_SECONDS)
    pad = (window_length - frame_length) // 2
    padded = np.pad(audio, (pad, window_length))
    frame_count = len(audio) // frame_length
    starts = np.arange(frame_count) * frame_length
    windows = padded[starts[:, None] + np.arange(window_length)] * np.hanning(window_length)
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2
    hertz = np.fft.rfftfreq(window_length, 1.0 / sample_rate)
    in_band = (hertz >= RINGBACK_BAND_HZ[0]) & (hertz <= RINGBACK_BAND_HZ[1])
    return power[:, in_band].sum(axis=1) / np.maximum(power.sum(axis=1), 1e-9)


def _frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_SECONDS))


def _within(runs: list[tuple[int, int]], frame_count: int) -> np.ndarray:
    inside = np.zeros(frame_count, dtype=bool)
    for start, end in runs:
        inside[start:end] = True
    return inside


def _cut_short(bursts: list[tuple[int, int]], frame_count: int) -> int | None:
    """The end frame of the last burst when it is shorter than every whole burst
    before it by CUT_BURST_SECONDS: the ring the answer interrupted; else None (also
    when the recording itself cut it off)."""
    if len(bursts) < 2 or bursts[-1][1] >= frame_count:
        return None
    shortest_whole = min(end - start for start, end in bursts[:-1])
    last_start, last_end = bursts[-1]
    if last_end - last_start <= shortest_whole - _frames(CUT_BURST_SECONDS):
        return last_end
    return None
