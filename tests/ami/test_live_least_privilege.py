"""The listener's AMI user on the real lab PBX: least privilege, and no number logged.

One call from a citizen number to Council Tax, with a listener recording the raw
stream it is sent. The stream holds only events of the classes manager.conf's
`[listener]` reads, never a `VarSet`, and still everything the tracker needs: the
call is stored. Nothing logged at INFO or above names the citizen.
(Needs the lab to have been given docker/asterisk/manager.conf: `ringtest lab up`.)
"""

from __future__ import annotations

import logging
import re

import pytest

from ami_listener.recording import Recorder, read_chunks
from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import AMI_LISTENER
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

CITIZEN_NUMBER = "+441382000177"
TRACKED_EVENTS = {"Newchannel", "Newexten", "Newstate", "DialState", "DialEnd", "Hangup"}
"""Events a call answered by one person must bring."""


@pytest.fixture(scope="module")
def one_call(lab, tmp_path_factory):
    """(the events the listener was sent as (name, class) pairs, the stored calls,
    the log lines at INFO or above)."""
    work = tmp_path_factory.mktemp("least-privilege")
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{work / 'r.db'}"})
    handler, root = _Collecting(), logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    recorder = Recorder(work / "stream.ami")
    stream = RecordStream()
    try:
        with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
            stream.subscribe("store", writer.handle)
            listener = BackgroundListener(make_listener(settings, store, stream, recorder))
            listener.start()
            try:
                lab_call("2001", answer="800", caller=CITIZEN_NUMBER)
                wait_until(
                    lambda: any(call.caller == CITIZEN_NUMBER for call in store.calls()),
                    failing="the listener did not store the call in time",
                )
            finally:
                listener.stop()
            calls = [call for call in store.calls() if call.caller == CITIZEN_NUMBER]
    finally:
        recorder.close()
        root.removeHandler(handler)
        root.setLevel(level)
    raw = b"".join(chunk for _at, chunk in read_chunks(work / "stream.ami"))
    events = re.findall(rb"Event: (\w+)\r\nPrivilege: (\w+),", raw)
    return {(name.decode(), kind.decode()) for name, kind in events}, calls, handler.lines


class _Collecting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_listener_is_sent_only_the_classes_it_reads(one_call):
    events, _calls, _logged = one_call
    assert {name for name, _kind in events} >= TRACKED_EVENTS
    assert {kind for _name, kind in events} <= set(AMI_LISTENER.read)


def test_the_listener_is_never_sent_varset(one_call):
    events, _calls, _logged = one_call
    assert "VarSet" not in {name for name, _kind in events}


def test_the_call_is_still_measured_and_no_log_line_names_the_citizen(one_call):
    _events, calls, logged = one_call
    [call] = calls
    assert call.answered_by == AnsweredBy.PERSON
    assert logged, "the listener logged nothing at INFO"
    assert [line for line in logged if CITIZEN_NUMBER.removeprefix("+44") in line] == []
