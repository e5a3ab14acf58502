"""Issue #15's lab ring tests: who answered, and what they said, through the real
Asterisk and real SIP, each against a truth the lab sets.

One batch of ring tests (as `ringtest call` places them, greeting audit included):

* 2011 (Information) answers at once with a stock Asterisk menu prompt: an IVR,
  0 s and 0 rings;
* 2004 (Planning) with ``X-Lab-Answer: never``: staff7 rings for 12 s, then
  voicemail answers: 12 s of ringing;
* 2001 (Council Tax) with ``X-Lab-Greeting: named``: staff1 says "Good morning,
  Council Tax, Sam speaking.": a person, who announced the line's name;
* 2001 with ``X-Lab-Greeting: hello``: staff1 says only "Hello?": a person, who
  greeted us but named no department.

And, without the lab, the greetings the agents are given, and the one line when
flite or sox is missing.
"""

from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.errors import LabError
from ringtest.core.records import AnsweredBy, GreetingAudit, Heard, RingTestOutcome
from ringtest.lab.accounts import (
    ANSWER_HEADER,
    GREETING_HEADER,
    VOICEMAIL_RING_SECONDS,
    LabGreeting,
)
from ringtest.lab.audio.rtp_pcap import PACKET_SAMPLES, SAMPLE_RATE_HZ
from ringtest.lab.greetings import GREETING_PCAPS, speak, write_greetings
from ringtest.sources.ring_tests import RingTestRequest, run_ring_tests
from ringtest.store import Store

LAB_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lab.toml"
VOICEMAIL_TOLERANCE_SECONDS = 0.020
STAFF_TOLERANCE_SECONDS = 0.050
STAFF_ANSWER_MS = 1500

REQUESTS = {
    "menu": RingTestRequest("2011", department="Information"),
    "voicemail": RingTestRequest(
        "2004", department="Planning", extra_headers={ANSWER_HEADER: "never"}
    ),
    "named": RingTestRequest(
        "2001",
        department="Council Tax",
        extra_headers={ANSWER_HEADER: str(STAFF_ANSWER_MS), GREETING_HEADER: LabGreeting.NAMED},
    ),
    "hello": RingTestRequest(
        "2001",
        department="Council Tax",
        extra_headers={ANSWER_HEADER: str(STAFF_ANSWER_MS), GREETING_HEADER: LabGreeting.HELLO},
    ),
}


PCAP_HEADER_BYTES = 24
PACKET_BYTES = 16 + 14 + 20 + 8 + 12 + PACKET_SAMPLES
"""One 20 ms packet in a capture: pcap record, Ethernet, IPv4, UDP and RTP headers, PCMU."""


@pytest.fixture(scope="module")
def batch(lab, tmp_path_factory):
    """The four ring tests placed at once; each result and its stored greeting audit."""
    directory = tmp_path_factory.mktemp("greetings")
    with Store.open(f"sqlite:///{directory / 'ringtest.db'}") as store:
        results = run_ring_tests(
            load_settings(LAB_CONFIG, environ={}),
            store,
            list(REQUESTS.values()),
            evidence_dir=directory,
        )
        yield {
            name: (result, store.greeting_audit(result.test_id))
            for name, result in zip(REQUESTS, results, strict=True)
        }


@pytest.mark.lab
def test_a_line_answering_at_once_with_a_stock_menu_is_an_ivr_with_no_ringing(batch):
    result, audit = batch["menu"]
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.answered_by is AnsweredBy.IVR
    assert (result.ring_seconds, result.rings) == (0.0, 0)
    assert not result.within_standard
    assert audit is None, "only a person's greeting is audited"


@pytest.mark.lab
def test_voicemail_after_12_s_is_voicemail_after_12_s_of_ringing(batch):
    result, audit = batch["voicemail"]
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.answered_by is AnsweredBy.VOICEMAIL
    assert result.ring_seconds == pytest.approx(
        VOICEMAIL_RING_SECONDS, abs=VOICEMAIL_TOLERANCE_SECONDS
    )
    assert not result.within_standard
    assert audit is None


def person_audit(batch, name: str) -> GreetingAudit:
    result, audit = batch[name]
    assert result.outcome is RingTestOutcome.ANSWERED, result.reason
    assert result.answered_by is AnsweredBy.PERSON
    assert result.ring_seconds == pytest.approx(STAFF_ANSWER_MS / 1000, abs=STAFF_TOLERANCE_SECONDS)
    assert result.within_standard
    assert audit is not None, "a person's greeting is audited after the batch"
    return audit


@pytest.mark.lab
def test_staff_naming_the_department_are_a_person_who_announced_the_name(batch):
    audit = person_audit(batch, "named")
    assert (audit.announced_name, audit.greeted) == (Heard.YES, Heard.YES), audit.transcript
    assert audit.transcript != ""


@pytest.mark.lab
def test_staff_saying_only_hello_are_a_person_who_did_not_announce_the_name(batch):
    audit = person_audit(batch, "hello")
    assert (audit.announced_name, audit.greeted) == (Heard.NO, Heard.YES), audit.transcript


def spoken_seconds(pcap: Path) -> float:
    packets = (pcap.stat().st_size - PCAP_HEADER_BYTES) / PACKET_BYTES
    return packets * PACKET_SAMPLES / SAMPLE_RATE_HZ


def test_each_agent_gets_a_hello_and_a_longer_named_greeting(tmp_path):
    write_greetings(tmp_path / "staff1", "staff1")
    hello, named = (tmp_path / "staff1" / GREETING_PCAPS[greeting] for greeting in LabGreeting)
    assert 0.3 < spoken_seconds(hello) < 1.0, "Hello?"
    assert 2.0 < spoken_seconds(named) < 4.5, "Good morning, Council Tax, Sam speaking."


def test_a_missing_speech_program_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LabError) as caught:
        speak("Hello?", tmp_path / "hello.wav")
    assert str(caught.value) == (
        "flite not found on PATH (the lab's staff agents speak their named greetings "
        "with flite and sox): install it with `apt-get install flite`"
    )
