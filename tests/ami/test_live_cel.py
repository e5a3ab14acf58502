"""The lab Asterisk's CEL of a live run, imported, measures every call as the listener did;
its CDR and queue_log, imported, have every call, right to the second or (CDR) unknown.

One run of `test_live_lab`'s scenarios (every line's call type: direct line, ring
group, ringall and round-robin queues, IVR, voicemail, busy, congestion, abandon,
a Local channel, blind and attended transfers) with the listener attached; then
the lines the lab's cel_custom wrote during the run are imported into a fresh
store. Each call (same call id: the Linkedid) must have the listener's outcome
and answered-by, and a ring time within 50 ms of the listener's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import LAB_HOST, RINGTESTER
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sip.accounts import SipAccount
from ringtest.sources.cdr_import import import_cdr
from ringtest.sources.cel_import import import_cel
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.sources.queue_log_import import import_queue_log
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.ami.test_live_lab import SCENARIOS, place, ringtester_calls, wait_for_calls
from tests.analysis.test_cdr_import import MASTER_CSV

pytestmark = pytest.mark.lab

CEL_FILE = Path("var/log/asterisk/cel-custom/Master.csv")
QUEUE_LOG = Path("var/log/asterisk/queue_log")
QUEUE_LINES = ("benefits", "permits")
QUEUE_ENDS = (b"COMPLETECALLER", b"COMPLETEAGENT", b"ABANDON")
CEL_WAIT_SECONDS = 10.0
TOLERANCE_SECONDS = 0.050


def settings_for(database: Path):
    return load_settings(
        LAB_CONFIG,
        overrides={"store.url": f"sqlite:///{database}", "standards.ring_cadence": "DE"},
        environ={},
    )


def written_since(path: Path, offset: int, call_ids: set[str], ended: Callable) -> bytes:
    """The bytes Asterisk appended to `path` after `offset`, once `ended` (the call ids a
    line says ended) has named each of `call_ids`."""
    deadline = time.monotonic() + CEL_WAIT_SECONDS
    while True:
        with path.open("rb") as file:
            file.seek(offset)
            written = file.read()
        seen = {call_id for line in written.splitlines() for call_id in ended(line)}
        if call_ids <= seen or time.monotonic() > deadline:
            return written
        time.sleep(0.1)


def cel_ended(line: bytes) -> list[str]:
    """The call a CEL line's LINKEDID_END ends."""
    if not line.startswith(b'"LINKEDID_END"'):
        return []
    return [line.split(b",")[15].strip(b'"').decode()]


def cdr_ended(line: bytes) -> list[str]:
    """The call (the caller's uniqueid: the lab's cdr_csv has no linkedid) of a CDR row."""
    return [line.rsplit(b",", 2)[1].strip(b'"').decode()] if line.count(b",") >= 17 else []


def queue_ended(line: bytes) -> list[str]:
    """The call whose queue visit a queue_log line ends."""
    fields = line.split(b"|")
    return [fields[1].decode()] if len(fields) > 4 and fields[4] in QUEUE_ENDS else []


def offset_of(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.fixture(scope="module")
def listened_and_imported(lab, sip_endpoint, tmp_path_factory):
    """(the listener's calls, the CEL import's calls), each by call id, of one run."""
    directory = tmp_path_factory.mktemp("cel")
    live_settings = settings_for(directory / "live.db")
    cel, cdr, queue_log = (
        rootfs_path(default_lab_dir()) / path for path in (CEL_FILE, MASTER_CSV, QUEUE_LOG)
    )
    cel_offset, cdr_offset, queue_offset = offset_of(cel), offset_of(cdr), offset_of(queue_log)
    sip_endpoint.add_account(
        SipAccount(name="live-ringtester", user=RINGTESTER.username,
                   password=RINGTESTER.secret, domain=LAB_HOST)
    )  # fmt: skip
    stream = RecordStream()
    with Store.open(live_settings.store_url()) as store, StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        listener = BackgroundListener(make_listener(live_settings, store, stream)).start()
        try:
            with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
                list(pool.map(place, SCENARIOS.values(), [sip_endpoint] * len(SCENARIOS)))
            listened = {call.call_id: call for call in wait_for_calls(store, SCENARIOS.values())}
        finally:
            listener.stop()
            writer.close()
            sip_endpoint.remove_account("live-ringtester")
    run_cel = directory / "cel.csv"
    run_cel.write_bytes(written_since(cel, cel_offset, set(listened), cel_ended))
    import_settings = settings_for(directory / "imported.db")
    with Store.open(import_settings.store_url()) as store:
        result = import_cel(run_cel, import_settings, store)
        imported = {call.call_id: call for call in ringtester_calls(store)}
    assert result.bad_row_count == 0
    run_cdr = directory / "cdr.csv"
    run_cdr.write_bytes(written_since(cdr, cdr_offset, set(listened), cdr_ended))
    cdr_settings = settings_for(directory / "cdr.db")
    with Store.open(cdr_settings.store_url()) as store:
        import_cdr(run_cdr, cdr_settings, store)
        from_cdr = {call.call_id: call for call in ringtester_calls(store)}
    queued = {call.call_id for call in listened.values() if call.line in QUEUE_LINES}
    run_queue_log = directory / "queue_log"
    run_queue_log.write_bytes(written_since(queue_log, queue_offset, queued, queue_ended))
    with Store.open(settings_for(directory / "queue.db").store_url()) as store:
        import_queue_log(run_queue_log, settings_for(directory / "queue.db"), store)
        from_queue_log = {call.call_id: call for call in ringtester_calls(store)}
    return listened, imported, from_cdr, from_queue_log


def test_cel_import_has_every_call_the_listener_stored(listened_and_imported):
    listened, imported, *_ = listened_and_imported
    assert len(listened) == len(SCENARIOS)
    assert set(imported) == set(listened)
    differences = [
        abs(imported[call_id].ring_seconds - call.ring_seconds)
        for call_id, call in listened.items()
        if call.ring_seconds is not None and imported[call_id].ring_seconds is not None
    ]
    print(f"ring times of {len(differences)} calls differ by at most {max(differences):.6f} s")
    assert max(differences) < TOLERANCE_SECONDS


@pytest.mark.parametrize("name", SCENARIOS)
def test_cel_import_measures_the_call_as_the_listener(listened_and_imported, name):
    listened, imported, *_ = listened_and_imported
    scenario = SCENARIOS[name]
    [live] = [
        c for c in listened.values() if (c.line, c.outcome) == (scenario.line, scenario.outcome)
    ]
    cel = imported[live.call_id]
    assert (cel.line, cel.outcome, cel.answered_by) == (live.line, live.outcome, live.answered_by)
    if live.ring_seconds is None:
        assert cel.ring_seconds is None
    else:
        assert cel.ring_seconds == pytest.approx(live.ring_seconds, abs=TOLERANCE_SECONDS)
    assert cel.rings == live.rings
    if live.ivr_seconds is None:
        assert cel.ivr_seconds is None
    else:
        assert cel.ivr_seconds == pytest.approx(live.ivr_seconds, abs=TOLERANCE_SECONDS)
    assert cel.gap_note is not None and cel.gap_note.startswith("imported from Asterisk CEL")


IVR_LINE = "2000"
"""The switchboard: its IVR answers the caller, so the CDR has no ring time for it."""


def test_cdr_import_has_every_call_right_to_the_second_or_its_ring_time_unknown(
    listened_and_imported,
):
    listened, _, from_cdr, _ = listened_and_imported
    assert set(from_cdr) == set(listened)
    for call_id, live in listened.items():
        cdr = from_cdr[call_id]
        assert (cdr.line, cdr.outcome, cdr.answered_by) == (
            live.line,
            live.outcome,
            live.answered_by,
        )
        if live.line == IVR_LINE or live.ring_seconds is None:
            assert cdr.ring_seconds is None
        else:
            assert abs(live.ring_seconds - cdr.ring_seconds) < 1.0  # each end cut to its second


def test_queue_log_import_has_every_queue_call_with_its_wait_to_the_second(
    listened_and_imported,
):
    listened, _, _, from_queue_log = listened_and_imported
    queued = {call_id: call for call_id, call in listened.items() if call.line in QUEUE_LINES}
    assert len(queued) == 2
    assert set(from_queue_log) == set(queued)
    for call_id, live in queued.items():
        waited = from_queue_log[call_id]
        assert (waited.line, waited.outcome, waited.answered_by) == (
            live.line,
            live.outcome,
            live.answered_by,
        )
        assert abs(live.ring_seconds - waited.ring_seconds) < 1.0
