"""The checks the listener makes on every link, against the real lab Asterisk and two AMI
users set up wrongly on purpose (docker/asterisk/manager.conf): each gap is one warning
line naming the manager.conf setting, and the lab's own listener user raises none.
(Needs the lab to have been given docker/asterisk/manager.conf: `ringtest lab up`.)"""

from __future__ import annotations

import logging

import pytest

from ringtest.config import load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import AMI_LISTENER, AMI_WITHOUT_DIALPLAN, AMI_WITHOUT_REPORTING
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

CALLS_PLACED = 10
"""Answered lab calls, each bringing about ten call-class events: well over EVIDENCE_EVENTS."""


def listen_as(user, tmp_path, caplog, calls: int, warned: bool):
    """Run a listener logged in as `user` while `calls` answered calls are placed (until
    it warned, when `warned`); return the link-check warnings it logged and their count."""
    caplog.set_level(logging.WARNING, logger="ami_listener.link_checks")
    settings = load_settings(
        LAB_CONFIG,
        overrides={
            "store.url": f"sqlite:///{tmp_path / 'r.db'}",
            "ami.user": user.username,
            "ami.secret": user.secret,
        },
    )
    with Store.open(settings.store_url()) as store:
        listener = make_listener(settings, store, RecordStream())
        background = BackgroundListener(listener)
        background.start()
        try:
            wait_until(lambda: listener.connects == 1, failing="the listener did not log in")
            for n in range(calls):
                lab_call("2001", answer="200", caller=f"+4413820001{60 + n}")
            if warned:
                wait_until(lambda: listener.checks.warnings, 20.0, failing="no warning")
        finally:
            background.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "ami_listener.link_checks"]
    return lines, listener.checks.warnings


def test_a_user_without_the_reporting_write_class_is_told_it_cannot_resync(tmp_path, caplog):
    lines, _count = listen_as(AMI_WITHOUT_REPORTING, tmp_path, caplog, calls=0, warned=True)
    assert lines == [
        f"AMI user '{AMI_WITHOUT_REPORTING.username}' at 127.0.0.1:5038 may not run "
        "CoreShowChannels (Permission denied): calls in progress at a reconnect cannot be "
        "adopted and will not be stored; give it write = reporting in manager.conf"
    ]


def test_a_user_without_the_dialplan_read_class_is_told_calls_cannot_be_measured(tmp_path, caplog):
    lines, _count = listen_as(
        AMI_WITHOUT_DIALPLAN, tmp_path, caplog, calls=CALLS_PLACED, warned=True
    )
    assert lines == [
        f"AMI user '{AMI_WITHOUT_DIALPLAN.username}' at 127.0.0.1:5038 receives call events "
        "but no dialplan events: calls cannot be measured; give it read = "
        "system,call,agent,dialplan in manager.conf and let no eventfilter drop those events"
    ]


def test_the_lab_listener_user_passes_every_check(tmp_path, caplog):
    lines, count = listen_as(AMI_LISTENER, tmp_path, caplog, calls=2, warned=False)
    assert (lines, count) == ([], 0)
