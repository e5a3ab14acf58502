"""What the lab's sipp agents say on answering: the RTP captures sipp replays.

Each agent has two greetings, and the caller's ``X-Lab-Greeting`` header
(`LabGreeting`) chooses one per call:

* ``hello.pcap``: "Hello?", made from the shipped ``audio/hello.wav`` (espeak-ng);
* ``named.pcap``: the agent's `NAMED_GREETINGS` line ("Good morning, Council Tax,
  Sam speaking."), spoken by flite's ``rms`` voice (16 kHz) and resampled by sox
  to the 8 kHz 16-bit mono that `wav_to_rtp_pcap` takes. flite, because the
  greeting audit (pocketsphinx) hears its department names where it misses most
  of espeak-ng's (bench/greeting_audit: 82% against 40%).

sipp loads a capture when it loads its scenario, by one file name for every call and
from next to the scenario, so each agent runs a copy of its scenario in a directory
of its own that holds its two captures (`ringtest.lab.staff`).
"""

from __future__ import annotations

import shutil
import subprocess
from importlib.resources import as_file, files
from pathlib import Path

from ringtest.core.errors import LabError
from ringtest.lab.accounts import NAMED_GREETINGS, LabGreeting
from ringtest.lab.audio.rtp_pcap import SAMPLE_RATE_HZ, wav_to_rtp_pcap

GREETING_PCAPS = {LabGreeting.HELLO: "hello.pcap", LabGreeting.NAMED: "named.pcap"}
"""The capture each scenario plays for each greeting, in the agent's directory."""
HELLO_WAV = "hello.wav"
"""`LabGreeting.HELLO`: "Hello?" (espeak-ng, 8 kHz, shipped in ``ringtest/lab/audio``)."""
FLITE_VOICE = "rms"
SPEECH_PROGRAMS = {"flite": "flite", "sox": "sox"}
"""Program -> the Debian package that installs it (``make system-deps`` installs both)."""
SPEECH_TIMEOUT_SECONDS = 30.0


def write_greetings(agent_dir: Path, username: str) -> None:
    """Write the captures of both greetings of agent `username` into `agent_dir`."""
    agent_dir.mkdir(parents=True, exist_ok=True)
    with as_file(files("ringtest.lab").joinpath("audio", HELLO_WAV)) as hello:
        wav_to_rtp_pcap(hello, agent_dir / GREETING_PCAPS[LabGreeting.HELLO])
    named_wav = agent_dir / "named.wav"
    speak(NAMED_GREETINGS[username], named_wav)
    wav_to_rtp_pcap(named_wav, agent_dir / GREETING_PCAPS[LabGreeting.NAMED])


def speak(text: str, wav_path: Path) -> None:
    """`text` spoken by flite into `wav_path`: 16-bit mono at 8 kHz."""
    for program, package in SPEECH_PROGRAMS.items():
        if shutil.which(program) is None:
            raise LabError(
                f"{program} not found on PATH (the lab's staff agents speak their named "
                f"greetings with flite and sox): install it with `apt-get install {package}`"
            )
    spoken = wav_path.with_suffix(".flite.wav")
    _run(["flite", "-voice", FLITE_VOICE, "-t", text, "-o", str(spoken)], text)
    _run(
        ["sox", str(spoken), "-r", str(SAMPLE_RATE_HZ), "-b", "16", "-c", "1", str(wav_path)],
        text,
    )
    spoken.unlink()


def _run(argv: list[str], text: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=SPEECH_TIMEOUT_SECONDS)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise LabError(
            f"{argv[0]} could not speak the lab greeting {text!r}"
            f"{': ' + detail[-1] if detail else ''}: check that `{argv[0]}` runs"
        )
