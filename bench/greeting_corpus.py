"""The labelled greeting corpus: what a ring test may hear after an answer, with the truth.

`bench/greeting_corpus.csv` defines every clip, one row each: who answered
(`truth`: person, voicemail, ivr, or unsure for a line that stays silent), the
split (`tune` for setting thresholds, `heldout` never looked at while tuning:
other voices, other texts, other prompts), what is said and by whom, what comes
after it, and the telephone conditions. Only that table is in git; the audio is
made from it into a cache directory (``$RINGTEST_CORPUS_DIR``, default
``~/.cache/ringtest/greeting-corpus``), so a second run reads WAVs.

* People are offline text-to-speech: Debian's ``espeak-ng`` (voice and variant,
  e.g. ``en-gb+m3``) and ``flite`` (``slt``, ``rms``, ``awb``, ``kal16``).
* IVR menus and voicemail greetings are Asterisk's own prompts, from Debian's
  sound packages (`SOUND_PACKAGES`: Allison in English and Spanish, June in
  French, Carlo and Menardi in Italian), fetched with ``apt-get download`` and
  unpacked with ``dpkg-deb -x`` (no root, nothing installed). Music on hold comes
  from ``asterisk-moh-opsound-wav``.
* What follows the speech (`then`): ``wait`` (silence, a person waiting or a menu
  waiting for a key), ``hello-again`` (a person says "Hello?" once more after
  2.5 s), ``continues`` (the prompt repeats with no pause), ``pause-repeat``
  (3 s pause, then the prompt again), ``music:NAME`` (hold music), ``beep``
  (a voicemail beep at `beep_hz`, or ``asterisk``: Asterisk's own ~700 Hz beep).
* Conditions: speech level (`level_dbfs`, active-speech RMS), white line noise
  (`noise_dbfs` RMS, empty for none), a late start (`lead_seconds` of silence)
  and a codec round trip through ``sox`` (``pcm``, ``ulaw``, ``alaw``, ``gsm``).

Every clip is `CLIP_SECONDS` long at `RATE_HZ`, as the ring test records it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ringtest.core.records import AnsweredBy

CORPUS = Path(__file__).resolve().parent / "greeting_corpus.csv"
RATE_HZ = 8000
CLIP_SECONDS = 15.0
"""as long as the ring test records (ringtest.sip.recording.GREETING_RECORD_SECONDS)."""
PROMPT_GAP_SECONDS = 0.1
HELLO_AGAIN_AFTER_SECONDS = 2.5
REPEAT_PAUSE_SECONDS = 3.0
BEFORE_BEEP_SECONDS = 0.3
BEEP_SECONDS = 0.5
MUSIC_BELOW_SPEECH_DB = 6.0
FULL_SCALE = 32768.0
SPEECH_WORDS_PER_MINUTE = 160
SOUND_PACKAGES = {
    "en_US_f_Allison": "asterisk-core-sounds-en-wav",
    "es_MX_f_Allison": "asterisk-core-sounds-es-wav",
    "fr_CA_f_June": "asterisk-core-sounds-fr-wav",
    "it_IT_m_Carlo": "asterisk-core-sounds-it-wav",
    "it_IT_f_Menardi": "asterisk-prompt-it-menardi-wav",
    "moh": "asterisk-moh-opsound-wav",
}
"""Debian package holding each Asterisk voice's prompts (and the hold music)."""
BEEP_VOICE = "en_US_f_Allison"
"""whose ``beep.wav`` an ``asterisk`` beep is."""
SOX_CODEC = {"ulaw": ("-e", "u-law"), "alaw": ("-e", "a-law")}


@dataclass(frozen=True, slots=True)
class Clip:
    """One row of the corpus table (see the module docstring for the columns)."""

    id: str
    split: str
    truth: AnsweredBy
    source: str
    voice: str
    material: str
    then: str
    beep_hz: str
    department: str
    codec: str
    level_dbfs: float
    noise_dbfs: float | None
    lead_seconds: float


def load_clips(path: Path = CORPUS) -> list[Clip]:
    """Every clip of the corpus table at `path`, in table order."""
    with path.open(newline="") as table:
        return [
            Clip(
                id=row["id"],
                split=row["split"],
                truth=AnsweredBy(row["truth"]),
                source=row["source"],
                voice=row["voice"],
                material=row["material"],
                then=row["then"],
                beep_hz=row["beep_hz"],
                department=row["department"],
                codec=row["codec"],
                level_dbfs=float(row["level_dbfs"]),
                noise_dbfs=float(row["noise_dbfs"]) if row["noise_dbfs"] else None,
                lead_seconds=float(row["lead_seconds"]),
            )
            for row in csv.DictReader(table)
        ]


def default_cache_dir() -> Path:
    """``$RINGTEST_CORPUS_DIR``, or ``~/.cache/ringtest/greeting-corpus``."""
    configured = os.environ.get("RINGTEST_CORPUS_DIR")
    return Path(configured) if configured else Path.home() / ".cache/ringtest/greeting-corpus"


class Corpus:
    """Makes (once) and reads (after) each clip's 16-bit audio under `cache_dir`."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()

    def audio(self, clip: Clip) -> np.ndarray:
        """The clip's int16 samples at RATE_HZ, made on first use and cached."""
        key = hashlib.sha1(repr(asdict(clip)).encode()).hexdigest()[:12]
        path = self.cache_dir / "clips" / f"{clip.id}-{key}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            samples = self._make(clip, np.random.default_rng(int(key, 16)))
            _write_wav(path.with_suffix(".tmp"), samples)
            path.with_suffix(".tmp").rename(path)
        return _read_wav(path)

    def speech_seconds(self, clip: Clip) -> float:
        """How long the clip's spoken material (`material`, said once) lasts, float seconds."""
        return len(self._speech(clip, clip.material)) / RATE_HZ

    def _make(self, clip: Clip, rng: np.random.Generator) -> np.ndarray:
        level = FULL_SCALE * 10 ** (clip.level_dbfs / 20)
        speech = self._speech(clip, clip.material) * level
        parts = [np.zeros(_samples(clip.lead_seconds)), speech]
        then, _, argument = clip.then.partition(":")
        if then == "hello-again":
            hello = self._speech(clip, "Hello?") * level
            parts += [np.zeros(_samples(HELLO_AGAIN_AFTER_SECONDS)), hello]
        elif then in ("continues", "pause-repeat"):
            pause = np.zeros(_samples(0.5 if then == "continues" else REPEAT_PAUSE_SECONDS))
            parts += [pause, speech] * (1 + int(CLIP_SECONDS / max(len(speech) / RATE_HZ, 0.5)))
        elif then == "music":
            music = _active_normalised(self._sound("moh", argument))
            parts += [np.zeros(_samples(BEFORE_BEEP_SECONDS)), music * level]
            parts[-1] = parts[-1] * 10 ** (-MUSIC_BELOW_SPEECH_DB / 20)
        elif then == "beep":
            parts += [np.zeros(_samples(BEFORE_BEEP_SECONDS)), self._beep(clip.beep_hz) * level]
        heard = np.concatenate(parts)[: _samples(CLIP_SECONDS)]
        heard = np.pad(heard, (0, _samples(CLIP_SECONDS) - len(heard)))
        if clip.noise_dbfs is not None:
            noise_rms = FULL_SCALE * 10 ** (clip.noise_dbfs / 20)
            heard = heard + rng.standard_normal(len(heard)) * noise_rms
        return self._codec(clip.codec, np.clip(np.round(heard), -32768, 32767).astype(np.int16))

    def _speech(self, clip: Clip, material: str) -> np.ndarray:
        """The spoken part at unit active RMS (float, RATE_HZ)."""
        if clip.source == "silence":
            return np.zeros(0)
        if clip.source == "asterisk":
            gap = np.zeros(_samples(PROMPT_GAP_SECONDS))
            prompts = [self._sound(clip.voice, name) for name in material.split()]
            return _active_normalised(np.concatenate([part for p in prompts for part in (p, gap)]))
        key = hashlib.sha1(f"{clip.source}|{clip.voice}|{material}".encode()).hexdigest()[:12]
        path = self.cache_dir / "speech" / f"{key}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _tts(clip.source, clip.voice, material, path)
        return _active_normalised(_read_wav(path).astype(np.float64))

    def _beep(self, beep_hz: str) -> np.ndarray:
        if beep_hz == "asterisk":
            return _active_normalised(self._sound(BEEP_VOICE, "beep"))
        t = np.arange(_samples(BEEP_SECONDS)) / RATE_HZ
        return np.sqrt(2) * np.sin(2 * np.pi * float(beep_hz) * t)

    def _sound(self, voice: str, name: str) -> np.ndarray:
        """An Asterisk prompt (or hold music when `voice` is ``moh``) as float samples."""
        root = self.cache_dir / "sounds" / SOUND_PACKAGES[voice]
        if not (root / ".unpacked").exists():
            _unpack_package(SOUND_PACKAGES[voice], root)
        folder = "moh" if voice == "moh" else f"sounds/{voice}"
        return _read_wav(root / "usr/share/asterisk" / folder / f"{name}.wav").astype(np.float64)

    def _codec(self, codec: str, samples: np.ndarray) -> np.ndarray:
        """`samples` after a round trip through `codec` (sox), as the far end's audio."""
        if codec == "pcm":
            return samples
        with tempfile.TemporaryDirectory() as scratch:
            clean, coded, back = (Path(scratch) / name for name in ("in.wav", "c", "out.wav"))
            _write_wav(clean, samples)
            if codec == "gsm":
                coded = coded.with_suffix(".gsm")
                _run(["sox", str(clean), str(coded)])
            else:
                coded = coded.with_suffix(".wav")
                _run(["sox", str(clean), *SOX_CODEC[codec], "-b", "8", str(coded)])
            _run(["sox", str(coded), "-e", "signed-integer", "-b", "16", str(back)])
            return _read_wav(back)


def splits(clips: Iterable[Clip], split: str) -> list[Clip]:
    return [clip for clip in clips if clip.split == split]


def _tts(source: str, voice: str, text: str, path: Path) -> None:
    """Speak `text` with `source` (espeak or flite) and `voice` into an 8 kHz WAV."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        if source == "espeak":
            command = ["espeak-ng", "-v", voice, "-s", str(SPEECH_WORDS_PER_MINUTE)]
            _run([*command, "-w", str(raw), text])
        elif source == "flite":
            _run(["flite", "-voice", voice, "-t", text, "-o", str(raw)])
        else:
            raise ValueError(f"unknown speech source {source!r}: use espeak or flite")
        tmp = path.with_suffix(".tmp.wav")
        _run(["sox", str(raw), "-r", str(RATE_HZ), "-c", "1", "-b", "16", str(tmp)])
        tmp.rename(path)


def _unpack_package(package: str, root: Path) -> None:
    """``apt-get download`` Debian's `package` and unpack it into `root` (no install)."""
    with tempfile.TemporaryDirectory() as scratch:
        _run(["apt-get", "download", "-qq", package], cwd=scratch)
        (deb,) = Path(scratch).glob("*.deb")
        root.mkdir(parents=True, exist_ok=True)
        _run(["dpkg-deb", "-x", str(deb), str(root)])
    (root / ".unpacked").write_text(package)


def _run(command: list[str], cwd: str | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise RuntimeError(f"{command[0]} is not installed: run scripts/system-deps")
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{' '.join(command[:2])} failed: {reason}")


def _samples(seconds: float) -> int:
    return round(seconds * RATE_HZ)


def _active_normalised(samples: np.ndarray) -> np.ndarray:
    """`samples` scaled so the RMS of its active 20 ms frames (within 30 dB of the
    loudest) is 1."""
    frame = _samples(0.02)
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    rms = np.sqrt((frames**2).mean(axis=1))
    active = rms[rms >= rms.max() * 10 ** (-30 / 20)] if len(rms) else rms
    return samples / np.sqrt((active**2).mean()) if len(active) else samples


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1 or wav.getframerate() != RATE_HZ:
            raise ValueError(f"{path} is not 16-bit mono at {RATE_HZ} Hz")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def _write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        wav.writeframes(samples.astype("<i2").tobytes())
