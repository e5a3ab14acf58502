"""Caller numbers are personal data: no log line at INFO or above carries one.

Representative flows run with every logger at INFO: every lab AMI capture replayed
into a store, a callback test opened, called back and let lapse, an inbound call that
matches no test; the SQL errors the store logs; the plaintext-AMI warning.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ringtest.config import Settings, load_settings
from ringtest.config.models import AmiSettings
from ringtest.core.calendar import WEEKDAYS, WorkingCalendar
from ringtest.core.records import (
    AnsweredBy,
    CallbackTestStatus,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.core.standards import Standards
from ringtest.lab.settings import LAB_CONFIG
from ringtest.services.callback_answering import CallbackCloser
from ringtest.sip.caller import PlacedRingTest
from ringtest.sip.inbound import InboundCall
from ringtest.sip.timeline import SipTimeline
from ringtest.sources.callback_test_requests import CallbackRequest, open_if_left
from ringtest.sources.live_calls import replay, warn_if_plaintext_login
from ringtest.store import Store
from ringtest.store.database import create_store_engine, resolve_url

FIXTURES = Path(__file__).parent / "fixtures" / "ami"
NUMBER_HEADER = re.compile(rb"^(?:CallerIDNum|ConnectedLineNum): (\+?\d{7,})\r$", re.MULTILINE)
LEFT_AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CALLBACK_DID = "+441382000155"
STAFF_CALLER_ID = "+441382434004"
STANDARDS = Standards(
    calendar=WorkingCalendar(
        timezone="UTC", opening_hours=dict.fromkeys(WEEKDAYS, "00:00-24:00"), country="GB"
    )
)


def national_digits(number: str) -> str:
    """The digits every written form of `number` shares (+44 1382..., 01382..., 1382...)."""
    return number.lstrip("+").removeprefix("44").lstrip("0")


def logged_at_info(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    database = tmp_path / "ringtest.db"
    return load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"}, environ={})


def test_replaying_every_lab_capture_logs_no_number_of_the_captures_at_info(settings, caplog):
    numbers = {
        number.decode()
        for path in FIXTURES.glob("*.ami")
        for number in NUMBER_HEADER.findall(path.read_bytes())
    }
    assert "+441382000100" in numbers and "+441382000199" in numbers
    caplog.set_level(logging.INFO)
    with Store.open(settings.store_url()) as store:
        calls = sum(replay(settings, path, store).calls for path in sorted(FIXTURES.glob("*.ami")))
        stored_callers = {call.caller for call in store.calls()}
    assert calls >= len(list(FIXTURES.glob("*.ami")))
    assert "+441382000100" in stored_callers
    logged = logged_at_info(caplog)
    assert [number for number in sorted(numbers) if national_digits(number) in logged] == []


def test_a_callback_test_left_called_back_and_lapsed_logs_no_number_at_info(settings, caplog):
    caplog.set_level(logging.INFO)
    with Store.open(settings.store_url()) as store:
        for test_id in ("t-called", "t-lapsed"):
            placed = PlacedRingTest(
                unanswered(test_id),
                SipTimeline(placed_at=LEFT_AT, invite_sent=0.0, message_played=2.0),
            )
            request = CallbackRequest(CALLBACK_DID, f"ref-{test_id}", Path("message.wav"))
            open_if_left(store, placed.result, placed, request, STANDARDS)
        closer = CallbackCloser(
            settings, store, standards=STANDARDS, clock=lambda: LEFT_AT + timedelta(days=3)
        )
        called = closer.called_back(inbound("ringtester", dialled=CALLBACK_DID))
        unmatched = closer.called_back(inbound("citizen", dialled="+441382000166"))
        lapsed = closer.close_overdue()
    assert called is not None and called.status != CallbackTestStatus.OPEN
    assert unmatched is None
    assert [test.test_id for test in lapsed] == ["t-lapsed"]
    logged = logged_at_info(caplog)
    assert "ring test t-called left a callback request (reference ref-t-called)" in logged
    assert "callback test t-called called back" in logged
    for number in (CALLBACK_DID, STAFF_CALLER_ID, "+441382000166"):
        assert national_digits(number) not in logged


def test_a_failed_statement_names_no_parameter(tmp_path):
    """The store logs its errors (e.g. "could not store N changes (<error>)"): a SQL
    error must not carry the values it was given, caller numbers among them."""
    engine = create_store_engine(resolve_url(f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(Exception) as caught, engine.connect() as connection:
        connection.execute(text("SELECT :caller + no_such_column"), {"caller": "+441382000100"})
    assert "no_such_column" in str(caught.value)
    assert "1382000100" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "tls", "warned"),
    [
        ("10.20.0.5", False, True),
        ("pbx.council.example", False, True),
        ("10.20.0.5", True, False),
        ("127.0.0.1", False, False),
        ("::1", False, False),
        ("localhost", False, False),
    ],
)
def test_a_plaintext_ami_login_to_another_host_warns_in_one_line(host, tls, warned, caplog):
    caplog.set_level(logging.INFO)
    assert warn_if_plaintext_login(AmiSettings(host=host, port=5038, tls=tls)) is warned
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == (
        [
            f"AMI login to {host}:5038 is unencrypted: the secret and every caller number "
            "cross the network in clear; set ami.tls = true (and tlsenable = yes in "
            "Asterisk's manager.conf)"
        ]
        if warned
        else []
    )


def unanswered(test_id: str) -> RingTestResult:
    return RingTestResult(
        test_id=test_id,
        target="2004",
        account="ringtester",
        department="Planning",
        placed_at=LEFT_AT,
        outcome=RingTestOutcome.ANSWERED,
        answered_by=AnsweredBy.VOICEMAIL,
        pdd_seconds=0.01,
        ring_seconds=12.0,
        tta_seconds=12.0,
        rings=4,
        within_standard=False,
        sip_code=200,
        reason="OK",
        callback_requested=True,
    )


def inbound(account: str, dialled: str) -> InboundCall:
    return InboundCall(
        account=account,
        dialled=dialled,
        caller=STAFF_CALLER_ID,
        caller_name="Planning",
        arrived_at=LEFT_AT + timedelta(hours=1),
        sip_call_id="abc@council",
    )
