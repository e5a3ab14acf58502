"""The callback standard on the real lab PBX: missed calls, call-backs, callers who get through.

Lab citizens (sipp, each presenting its own number) miss the council three ways;
staff (the lab's `staffout` phone) ring two of them back, one of whom does not
pick up; the third caller rings again and gets through. The listener must turn
that into exactly these obligations.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ringtest.config import load_settings
from ringtest.core.records import CallbackStatus, CallOutcome
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

NOT_STORED = "the listener did not store it in time"

ABANDONER, VOICEMAIL_CALLER, BUSY_CALLER = "+441382000131", "+441382000132", "+441382000133"


@pytest.fixture(scope="module")
def obligations(lab, tmp_path_factory):
    """Play the morning out with the listener attached; return obligations by caller."""
    database = tmp_path_factory.mktemp("callbacks") / "ringtest.db"
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"})
    stream = RecordStream()
    with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        listener = BackgroundListener(make_listener(settings, store, stream)).start()
        try:
            with ThreadPoolExecutor(max_workers=3) as pool:
                list(
                    pool.map(
                        lambda call: lab_call(**call),
                        [
                            dict(target="2001", answer="never", give_up_ms=2000, caller=ABANDONER),
                            dict(
                                target="2004", answer="never", hold_ms=1000, caller=VOICEMAIL_CALLER
                            ),
                            dict(target="2005", caller=BUSY_CALLER),
                        ],
                    )
                )
            wait_until(lambda: len(store.obligations(CallbackStatus.OPEN)) == 3, failing=NOT_STORED)
            lab_call(ABANDONER, account=STAFFOUT, answer="1000")
            lab_call(VOICEMAIL_CALLER, account=STAFFOUT, answer="never", give_up_ms=2000)
            lab_call("2001", answer="800", caller=BUSY_CALLER)
            wait_until(lambda: not store.obligations(CallbackStatus.OPEN), failing=NOT_STORED)
        finally:
            listener.stop()
            writer.close()
        return {ob.caller: ob for ob in store.obligations()}, store.calls()


def test_every_missed_call_opened_one_obligation(obligations):
    by_caller, calls = obligations
    assert set(by_caller) == {ABANDONER, VOICEMAIL_CALLER, BUSY_CALLER}
    first_outcome = {}
    for call in calls:
        first_outcome.setdefault(call.caller, call.outcome)
    assert [first_outcome[c] for c in (ABANDONER, VOICEMAIL_CALLER, BUSY_CALLER)] == [
        CallOutcome.ABANDONED,
        CallOutcome.VOICEMAIL,
        CallOutcome.BUSY,
    ]


def test_answered_call_back_closes_the_obligation_as_called_back_and_connected(obligations):
    ob = obligations[0][ABANDONER]
    assert (ob.status, ob.connected) == (CallbackStatus.CALLED_BACK, True)
    assert ob.closed_at > ob.missed_at
    assert ob.working_seconds is not None


def test_unanswered_call_back_still_counts_as_the_attempt_but_not_connected(obligations):
    ob = obligations[0][VOICEMAIL_CALLER]
    assert (ob.status, ob.connected) == (CallbackStatus.CALLED_BACK, False)


def test_caller_who_rings_again_and_is_answered_got_through_first(obligations):
    ob = obligations[0][BUSY_CALLER]
    assert ob.status is CallbackStatus.CALLER_GOT_THROUGH
    assert ob.connected is None
