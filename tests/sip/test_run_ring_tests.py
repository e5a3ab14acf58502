"""`run_ring_tests` and `ringtest call` against the lab PBX, with the lab config.

The lab's staff agents answer after the X-Lab-Answer milliseconds (2000 by default),
so every answered ring time has a known truth.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.errors import SipError
from ringtest.core.records import AnsweredBy, RingTestOutcome
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import ANSWER_HEADER, DEFAULT_ANSWER_MS, VOICEMAIL_RING_SECONDS
from ringtest.sources.ring_tests import RingTestRequest, run_ring_tests, target_uri
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
LAB_CONFIG = REPO / "examples" / "lab.toml"
TOLERANCE_SECONDS = 0.050


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        yield store


@pytest.fixture(scope="module")
def lab_settings():
    return load_settings(LAB_CONFIG, environ={})


def ringtest_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RINGTEST_DB": f"sqlite:///{db}", "XDG_DATA_HOME": str(db.parent)}
    env.pop("RINGTEST_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_ringtest_call_to_a_lab_extension_prints_and_stores_the_measured_rings(lab, tmp_path):
    db = tmp_path / "cli.db"
    done = ringtest_cli("call", "2001", "--department", "Council Tax", "--format", "json", db=db)
    assert done.returncode == 0, done.stderr
    [printed] = json.loads(done.stdout)
    assert printed["target"] == "2001"
    assert printed["account"] == "ringtester"
    assert printed["outcome"] == "answered"
    assert printed["ring_seconds"] == pytest.approx(DEFAULT_ANSWER_MS / 1000, abs=TOLERANCE_SECONDS)
    assert printed["rings"] == 1
    assert printed["answered_by"] == "person"
    assert printed["within_standard"] is True
    assert Path(printed["evidence_path"]).is_file()
    with Store.open(f"sqlite:///{db}") as store:
        [stored] = store.ring_tests()
    assert stored.test_id == printed["test_id"]
    assert stored.department == "Council Tax"
    assert stored.ring_seconds == printed["ring_seconds"]
    assert stored.outcome is RingTestOutcome.ANSWERED


def test_ringtest_call_from_an_unknown_account_is_one_line(tmp_path):
    done = ringtest_cli("call", "2001", "--account", "nobody", db=tmp_path / "cli.db")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "ringtest: no SIP account is named 'nobody': use one of sip.accounts (ringtester)\n"
    )


def test_a_line_answered_after_three_rings_is_stored_as_it_ends(lab, lab_settings, store, tmp_path):
    seen = []
    stream = RecordStream()
    stream.subscribe("seen", lambda changes: seen.extend(change.result for change in changes))
    with StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        [result] = run_ring_tests(
            lab_settings,
            store,
            [
                RingTestRequest(
                    "+441382434001",
                    department="Council Tax",
                    extra_headers={ANSWER_HEADER: "7500"},
                )
            ],
            evidence_dir=tmp_path,
            stream=stream,
        )
    assert seen == [result]
    assert result.outcome is RingTestOutcome.ANSWERED
    assert result.ring_seconds == pytest.approx(7.5, abs=TOLERANCE_SECONDS)
    assert result.rings == 3
    assert result.answered_by is AnsweredBy.PERSON
    assert result.within_standard
    assert store.ring_tests() == [result]


def test_busy_line_and_unanswered_line_in_one_run(lab, lab_settings, store, tmp_path):
    results = run_ring_tests(
        lab_settings,
        store,
        [
            RingTestRequest("2005", department="Licensing"),
            RingTestRequest("2001", max_rings=2, extra_headers={ANSWER_HEADER: "never"}),
        ],
        evidence_dir=tmp_path,
    )
    assert [r.outcome for r in results] == [
        RingTestOutcome.BUSY,
        RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS,
    ]
    assert results[1].rings == 2
    assert [r.answered_by for r in results] == [AnsweredBy.NONE, AnsweredBy.NONE]
    assert [r.evidence_path for r in results] == [None, None]
    assert results[1].ring_seconds == pytest.approx(6.0, abs=TOLERANCE_SECONDS)
    assert not any(r.within_standard for r in results)
    assert {r.test_id for r in store.ring_tests()} == {r.test_id for r in results}


def test_more_than_four_tests_at_once_go_through_a_pool(lab, lab_settings, store, tmp_path):
    answers_ms = [1000, 1300, 1600, 1900, 2200, 2500]
    requests = [
        RingTestRequest("2001", test_id=f"pool-{ms}", extra_headers={ANSWER_HEADER: str(ms)})
        for ms in answers_ms
    ]
    results = run_ring_tests(lab_settings, store, requests, evidence_dir=tmp_path)
    assert [r.test_id for r in results] == [f"pool-{ms}" for ms in answers_ms]
    assert [r.outcome for r in results] == [RingTestOutcome.ANSWERED] * 6
    errors_ms = [abs(r.ring_seconds * 1000 - ms) for r, ms in zip(results, answers_ms, strict=True)]
    assert max(errors_ms) < TOLERANCE_SECONDS * 1000, errors_ms
    assert [r.answered_by for r in results] == [AnsweredBy.PERSON] * 6
    assert len(store.ring_tests()) == 6


def test_a_person_voicemail_and_an_ivr_are_told_apart_by_what_they_say(
    lab, lab_settings, store, tmp_path
):
    person, voicemail, ivr = run_ring_tests(
        lab_settings,
        store,
        [
            RingTestRequest(
                "2001", department="Council Tax", extra_headers={ANSWER_HEADER: "1000"}
            ),
            RingTestRequest("2004", department="Planning", extra_headers={ANSWER_HEADER: "never"}),
            RingTestRequest("2000", department="Switchboard"),
        ],
        evidence_dir=tmp_path,
    )
    assert [r.outcome for r in (person, voicemail, ivr)] == [RingTestOutcome.ANSWERED] * 3
    assert person.answered_by is AnsweredBy.PERSON
    assert person.within_standard
    assert voicemail.answered_by is AnsweredBy.VOICEMAIL
    assert voicemail.ring_seconds == pytest.approx(VOICEMAIL_RING_SECONDS, abs=TOLERANCE_SECONDS)
    assert not voicemail.within_standard, "voicemail within 7 rings is no person answering"
    assert ivr.answered_by is AnsweredBy.IVR
    assert not ivr.within_standard
    assert {Path(r.evidence_path) for r in (person, voicemail, ivr)} == {
        tmp_path / f"{r.test_id}.wav" for r in (person, voicemail, ivr)
    }
    assert all(Path(r.evidence_path).stat().st_size > 100_000 for r in (person, voicemail, ivr))
    assert {Path(r.evidence_path).stat().st_mode & 0o777 for r in (person, voicemail, ivr)} == {
        0o600
    }, "evidence WAVs are private whatever the umask"


def test_wrong_password_is_one_line_and_places_nothing(lab, tmp_path, store):
    config = tmp_path / "wrong.toml"
    config.write_text(
        "[[sip.accounts]]\n"
        'name = "wrongpass"\nuser = "ringtester"\npassword = "not-the-secret"\n'
        'domain = "127.0.0.1"\nregistrar = "sip:127.0.0.1:5060"\n'
    )
    with pytest.raises(SipError) as caught:
        run_ring_tests(load_settings(config, environ={}), store, [RingTestRequest("2001")])
    assert str(caught.value) == (
        "SIP registration of 'wrongpass' at sip:127.0.0.1:5060 failed: "
        "401 Unauthorized: check the user and password"
    )
    assert store.ring_tests() == []


def test_no_configured_account_is_one_line(store):
    with pytest.raises(SipError) as caught:
        run_ring_tests(load_settings(environ={}), store, [RingTestRequest("2001")])
    assert str(caught.value) == (
        "no SIP account is configured to place ring tests from: add one under [[sip.accounts]]"
    )


@pytest.mark.parametrize(
    ("target", "uri"),
    [
        ("2001", "sip:2001@127.0.0.1:5060"),
        ("+441382434001", "sip:+441382434001@127.0.0.1:5060"),
        ("01382 434001", "sip:+441382434001@127.0.0.1:5060"),
        ("sip:desk@10.0.0.9", "sip:desk@10.0.0.9"),
    ],
)
def test_targets_are_dialled_at_the_registrar(lab_settings, target, uri):
    assert target_uri(target, lab_settings.sip.accounts[0], "GB") == uri


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "council tax",
            "ring test target 'council tax' is neither a phone number nor a SIP URI: "
            "write it like +441382434001, 2001 or sip:2001@pbx.example.org",
        ),
        (
            "+44123",
            "ring test target '+44123' is not a whole phone number: "
            "write it in E.164, e.g. +441382434001",
        ),
    ],
)
def test_a_target_that_cannot_be_dialled_is_one_line(lab_settings, target, message):
    with pytest.raises(SipError) as caught:
        target_uri(target, lab_settings.sip.accounts[0], "GB")
    assert str(caught.value) == message
