"""The lab's switchboard (2000) navigated to a person: a menu answers, we press 1,
staff6 is dialled and answers after X-Lab-Answer ms.

Asterisk dials staff6 from the answered call, so no 180 reaches us: the ringback
is Asterisk's in-band tone (the lab's UK zone, docker/asterisk/indications.conf),
and the rings after the key are read from the audio: from the tone's first burst
to staff6's "Hello?". The truth is the lab's answer delay: staff6 answers that long
after it is dialled. Six lab calls measured 4.31 s each for 4.3 s. (With no
indications.conf Asterisk plays no ringback: the ringing was silence, timed from
where the PBX took the key, and the error was -0.01 to +0.06 s.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.lab.accounts import ANSWER_HEADER, DEFAULT_ANSWER_MS, LAB_HOST, SIP_PORT
from ringtest.sip.caller import place_ring_test
from ringtest.sip.ivr import parse_ivr

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
LAB_CONFIG = REPO / "examples" / "lab.toml"
TOLERANCE_SECONDS = 0.050
SWITCHBOARD = f"sip:2000@{LAB_HOST}:{SIP_PORT}"


RULE = RingRule(seconds_per_ring=3.0, answer_within_rings=7)
ANSWER_SECONDS = 4.3
"""staff6's answer delay: into the second ring, so the rings after the key are 2."""


def test_lab_switchboard_navigated_to_a_person_measures_the_ring_after_the_key(
    sip_endpoint, citizen, tmp_path
):
    result, _, greeting = place_ring_test(
        sip_endpoint,
        citizen,
        SWITCHBOARD,
        max_rings=3,
        ring_rule=RULE,
        extra_headers={ANSWER_HEADER: str(round(ANSWER_SECONDS * 1000))},
        timeout_seconds=60,
        evidence_path=tmp_path / "switchboard.wav",
        record_seconds=4.0,
        key_plan=parse_ivr("w1 1"),
    )
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.ring_seconds_after_ivr == pytest.approx(ANSWER_SECONDS, abs=TOLERANCE_SECONDS)
    assert result.rings_after_ivr == 2
    assert result.answered_by is AnsweredBy.PERSON, greeting
    assert result.within_standard
    assert result.ivr_keys == "w1 1"
    assert result.ivr_seconds == pytest.approx(1.0, abs=TOLERANCE_SECONDS)
    assert result.ring_seconds == 0.0, "the menu answered before any SIP ringing"
    assert result.to_person_seconds > result.ivr_seconds + ANSWER_SECONDS


def test_ringtest_call_with_ivr_keys_prints_the_figures_of_the_menu(lab, tmp_path):
    """The lab config's account through the CLI; staff6 answers after the lab's default
    DEFAULT_ANSWER_MS (the CLI sends no X-Lab-Answer)."""
    env = {
        **os.environ,
        "RINGTEST_DB": f"sqlite:///{tmp_path / 'cli.db'}",
        "XDG_DATA_HOME": str(tmp_path),
    }
    env.pop("RINGTEST_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "call", "2000"]
        + ["--ivr", "w1 1", "--max-rings", "2", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [printed] = json.loads(done.stdout)
    assert printed["ivr_keys"] == "w1 1"
    assert printed["answered_by"] == "person"
    assert printed["ring_seconds_after_ivr"] == pytest.approx(
        DEFAULT_ANSWER_MS / 1000, abs=TOLERANCE_SECONDS
    )
    assert printed["rings_after_ivr"] == 1
    assert printed["within_standard"] is True
