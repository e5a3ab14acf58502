"""Spoken messages a ring test plays into a call: what they say, how they are made,
and the pjsua2 player that sends one down a call.

Two messages exist. The *callback request* is left on a line no person answered
(voicemail, IVR): it names the number to call back and the test's reference.
The *callback answer* is played to whoever calls that number back. Either comes
from a WAV the account's config names (`callback_message`), else it is spoken by
Debian's ``espeak-ng`` into a WAV the moment it is needed (`speak`), so the
request can name this test's own number and reference.

`PromptPlayer` belongs to one call and lives on the endpoint thread, like
`recording.GreetingRecorder`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import wave
from pathlib import Path

import pjsua2 as pj

from ringtest.core.errors import SipError
from ringtest.sip.recording import active_audio_index

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
ESPEAK_WORDS_PER_MINUTE = 150
ESPEAK_SECONDS = 30.0
"""seconds espeak-ng may take to write one prompt."""

ANSWER_TEXT = "Thank you for calling back. This was a test of your call-back standard. Goodbye."


def request_text(callback_number: str, reference: str) -> str:
    """What the callback request says, with the number and the reference spelled out
    digit by digit (``+4413...`` reads as "plus 4 4 1 3 ...")."""
    number = " ".join("plus" if char == "+" else char for char in callback_number)
    spelled = " ".join(reference.upper())
    return (
        "Hello, this is a message for the council. "
        f"Please call me back on {number}. "
        f"My reference is {spelled}. "
        f"Again, the number is {number}. Thank you."
    )


def speak(text: str, path: Path) -> Path:
    """Speak `text` into the WAV at `path` (16-bit mono) with espeak-ng; return `path`."""
    program = shutil.which(ESPEAK)
    if program is None:
        raise SipError(
            "espeak-ng is not installed, so the callback message cannot be spoken: "
            "install it (apt-get install espeak-ng) or set sip.accounts.callback_message"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [program, "-s", str(ESPEAK_WORDS_PER_MINUTE), "-w", str(path), text],
        capture_output=True,
        timeout=ESPEAK_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise SipError(
            f"espeak-ng could not write {path}: {reason[-1] if reason else done.returncode}: "
            "check the directory is writable"
        )
    return path


def wav_seconds(path: Path) -> float:
    """The length of the WAV at `path`, float seconds; `SipError` when it is no WAV."""
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error) as error:
        raise SipError(
            f"callback message {path} is not a readable WAV ({error}): give a 16-bit PCM WAV file"
        ) from None


class PromptPlayer:
    """Plays the WAV at `path` once into one call's audio (endpoint thread only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds = wav_seconds(path)
        self._player: pj.AudioMediaPlayer | None = None
        self._sink: pj.AudioMedia | None = None

    def start(self, call: pj.Call, info: pj.CallInfo) -> bool:
        """Start playing into the call's active audio; False when it has none (or already
        playing)."""
        if self._player is not None:
            return False
        index = active_audio_index(info)
        if index is None:
            return False
        player = pj.AudioMediaPlayer()
        try:
            player.createPlayer(str(self.path), pj.PJMEDIA_FILE_NO_LOOP)
            sink = call.getAudioMedia(index)
            player.startTransmit(sink)
        except pj.Error as error:
            logger.warning("cannot play %s into the call: %s", self.path, error.reason)
            return False
        self._player, self._sink = player, sink
        return True

    def stop(self) -> None:
        """Stop sending audio (safe to call more than once)."""
        if self._player is None:
            return
        try:
            self._player.stopTransmit(self._sink)
        except pj.Error as error:
            logger.debug("prompt player already detached: %s", error.reason)
        self._player = None
        self._sink = None
