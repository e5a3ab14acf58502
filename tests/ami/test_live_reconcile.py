"""`reconcile` on a live lab run: the listener stores every call of `test_live_lab`'s
scenarios, some are deleted from its store, and the lab Asterisk's own Master.csv and
CEL of the run find exactly those; --fill stores them back, marked as imported."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete

from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import LAB_HOST, RINGTESTER
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.sip.accounts import SipAccount
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.sources.reconcile import HistoryKind, fill_missed, reconcile
from ringtest.store import Store, schema
from ringtest.store.writer import StoreWriter
from tests.ami.test_live_cel import (
    CEL_FILE,
    cdr_ended,
    cel_ended,
    offset_of,
    settings_for,
    written_since,
)
from tests.ami.test_live_lab import SCENARIOS, place, wait_for_calls
from tests.analysis.test_cdr_import import MASTER_CSV

pytestmark = pytest.mark.lab

DELETED_LINES = ("2000", "2005", "benefits")
"""The IVR's, the busy line's and a queue's calls: deleted from the listener's store."""


@pytest.fixture(scope="module")
def run(lab, sip_endpoint, tmp_path_factory):
    """(settings of the listener's store, the run's CDR file, its CEL file, deleted ids)."""
    directory = tmp_path_factory.mktemp("reconcile")
    settings = settings_for(directory / "live.db")
    cel, cdr = (rootfs_path(default_lab_dir()) / path for path in (CEL_FILE, MASTER_CSV))
    cel_offset, cdr_offset = offset_of(cel), offset_of(cdr)
    sip_endpoint.add_account(  # the account `place` calls from
        SipAccount(name="live-ringtester", user=RINGTESTER.username,
                   password=RINGTESTER.secret, domain=LAB_HOST)
    )  # fmt: skip
    stream = RecordStream()
    with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        listener = BackgroundListener(make_listener(settings, store, stream)).start()
        try:
            with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
                list(pool.map(place, SCENARIOS.values(), [sip_endpoint] * len(SCENARIOS)))
            listened = wait_for_calls(store, SCENARIOS.values())
        finally:
            listener.stop()
            writer.close()
            sip_endpoint.remove_account("live-ringtester")
        deleted = {call.call_id for call in listened if call.line in DELETED_LINES}
        with store.engine.begin() as connection:
            connection.execute(delete(schema.calls).where(schema.calls.c.call_id.in_(deleted)))
    ids = {call.call_id for call in listened}
    run_cdr, run_cel = directory / "Master.csv", directory / "cel.csv"
    run_cdr.write_bytes(written_since(cdr, cdr_offset, ids, cdr_ended))
    run_cel.write_bytes(written_since(cel, cel_offset, ids, cel_ended))
    return settings, {HistoryKind.CDR: run_cdr, HistoryKind.CEL: run_cel}, deleted, len(ids)


@pytest.mark.parametrize("kind", list(HistoryKind))
def test_reconcile_against_the_labs_own_history_finds_exactly_the_deleted_calls(run, kind):
    settings, files, deleted, calls = run
    assert len(deleted) == len(DELETED_LINES)
    with Store.open(settings.store_url()) as store:
        result = reconcile(files[kind], kind, settings, store)
        assert result.history_calls == calls
        assert {missed.history.call_id for missed in result.missed} == deleted
        assert all(missed.gap is None for missed in result.missed)  # no gap recorded
        assert result.differing == []
        if kind is HistoryKind.CEL:  # last: --fill puts them back
            fill_missed(result, kind, settings, store)
            assert result.filled == len(deleted)
            again = reconcile(files[kind], kind, settings, store)
            assert (again.missed, again.stored_calls) == ([], calls)
