"""The callback request's words, the spoken WAV, and a bad configured WAV as one line."""

from pathlib import Path

import pytest

from ringtest.core.errors import SipError
from ringtest.sip.prompt import request_text, speak, wav_seconds


def test_the_request_reads_the_number_and_reference_out_one_character_at_a_time():
    text = request_text("+4413", "ab12")
    assert "call me back on plus 4 4 1 3." in text
    assert "My reference is A B 1 2." in text


def test_espeak_ng_speaks_the_request_into_a_wav_of_a_few_seconds(tmp_path: Path):
    path = speak(request_text("+441382000199", "D0C613"), tmp_path / "ask.wav")
    assert 5.0 < wav_seconds(path) < 30.0


def test_a_file_that_is_no_wav_is_one_line(tmp_path: Path):
    path = tmp_path / "ask.wav"
    path.write_text("not audio")
    with pytest.raises(SipError) as caught:
        wav_seconds(path)
    assert str(caught.value) == (
        f"callback message {path} is not a readable WAV (file does not start with RIFF id): "
        "give a 16-bit PCM WAV file"
    )
