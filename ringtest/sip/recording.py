"""Record what the far end says after it answers: the evidence behind `answered_by`.

A `GreetingRecorder` belongs to one call and lives on the endpoint thread. Once
the call is confirmed with active audio it connects the call's received audio
to a pjsua2 `AudioMediaRecorder` (a WAV at the conference bridge's clock rate,
16-bit mono); `stop()` disconnects and closes the file. The call is held for
`seconds`, so the WAV holds about that much audio. The WAV is made 0600 and a
new directory for it 0700: a greeting may name the person who answered.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pjsua2 as pj

from ringtest.core.private_files import make_private, make_private_directory

logger = logging.getLogger(__name__)

GREETING_RECORD_SECONDS = 15.0
"""seconds of audio recorded after an answer. A person's "Hello?" or an IVR's first
prompt take a few seconds, but a voicemail greeting can run 10-15 s before its beep
(Asterisk's own, unavailable message then instructions, beeps about 12 s in)."""


class GreetingRecorder:
    """Records one call's received audio to `path` for `seconds` (float) after the answer."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self._recorder: pj.AudioMediaRecorder | None = None
        self._source: pj.AudioMedia | None = None

    def start(self, call: pj.Call, info: pj.CallInfo) -> bool:
        """Connect the call's active audio to a new WAV; once per call, later calls ignored.
        True when this call started the recording."""
        if self._recorder is not None:
            return False
        index = active_audio_index(info)
        if index is None:
            return False
        make_private_directory(self.path.parent)
        recorder = pj.AudioMediaRecorder()
        try:
            recorder.createRecorder(str(self.path))
            make_private(self.path)
            source = call.getAudioMedia(index)
            source.startTransmit(recorder)
        except pj.Error as error:
            logger.warning("cannot record the greeting to %s: %s", self.path, error.reason)
            return False
        self._recorder, self._source = recorder, source
        logger.debug("recording the greeting to %s", self.path)
        return True

    def stop(self) -> None:
        """Disconnect and close the WAV (safe to call more than once)."""
        if self._recorder is None:
            return
        try:
            self._source.stopTransmit(self._recorder)
        except pj.Error as error:
            logger.debug("greeting recorder already detached: %s", error.reason)
        self._recorder = None
        self._source = None


WAV_CLOSE_SECONDS = 2.0
"""seconds to wait for pjmedia to finish a WAV: the conference bridge removes a
recorder port (and writes the RIFF header) on its own clock thread, after `stop()`."""

WAV_CLOSE_POLL_SECONDS = 0.01


def wait_until_written(path: Path, timeout_seconds: float = WAV_CLOSE_SECONDS) -> bool:
    """Wait until `path` is a finished WAV (its RIFF size matches the file); False if it
    was not within the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while not _finished_wav(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(WAV_CLOSE_POLL_SECONDS)
    return True


def _finished_wav(path: Path) -> bool:
    try:
        with path.open("rb") as wav:
            header = wav.read(8)
            size = path.stat().st_size
    except FileNotFoundError:
        return False
    return (
        len(header) == 8
        and header[:4] == b"RIFF"
        and int.from_bytes(header[4:], "little") == size - 8
    )


def active_audio_index(info: pj.CallInfo) -> int | None:
    """The index of the call's first active audio stream, None when it has none."""
    return next(
        (
            number
            for number, media in enumerate(info.media)
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
        ),
        None,
    )
