"""Wiring for `ringtest listen` and `ringtest replay`: settings in, a running pipeline out.

This is where the pure AMI stages meet the outside world: the config says
which lines are monitored and what the standards are, the live socket or a
recording feeds the same `CallPipeline`, and what it makes of the events is
published on a `RecordStream`. The store is one subscriber of that stream (a
`StoreWriter` keeps the calls and the callback obligations); the store also
restores the obligations still owed after a restart.

The live listener journals every byte (`ami_listener.journal`): `journal_for`
opens the journal of one PBX and database, and `recover_from_journal` replays
it from its checkpoint into the store before the listener connects.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ami_listener.checkpoint import UnstoredCalls
from ami_listener.journal import Journal
from ami_listener.journal_replay import replay_journal
from ami_listener.listener import Listener, ListenerSettings
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline, StreamSink, replay_file
from ami_listener.recording import Recorder
from ami_listener.tracker import CallTracker
from ringtest.config import AmiSettings, Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import PbxUnreachable
from ringtest.core.private_files import data_directory
from ringtest.core.records import CallbackObligation, CallbackStatus
from ringtest.core.stream import Change, RecordStream
from ringtest.store import Store
from ringtest.store.writer import STORED_CHANGES, StoreWriter, write_changes

RECOVERY_BATCH_CHANGES = 5000
"""Changes replayed from the journal per write to the store."""

log = logging.getLogger(__name__)


def build_pipeline(
    settings: Settings, store: Store, ledger: CallbackLedger | None = None
) -> CallPipeline:
    """The tracker for the configured PBX (`settings.ami`), and a callback ledger: `ledger`
    (shared with the other PBXs of its organisation), else its own with owed callbacks
    restored."""
    standards = standards_of(settings)
    tracker = CallTracker(settings.ami.pbx, line_directory_of(settings), standards)
    if ledger is None:
        ledger = CallbackLedger(standards, owed_obligations(store, {settings.ami.pbx}))
    return CallPipeline(tracker, ledger)


def owed_obligations(store: Store, pbxs: set[str]) -> list[CallbackObligation]:
    """The callback obligations still owed for calls missed on `pbxs`."""
    return [
        obligation
        for status in (CallbackStatus.OPEN, CallbackStatus.OVERDUE)
        for obligation in store.obligations(status)
        if obligation.pbx in pbxs
    ]


def shared_ledgers(settings: Settings, store: Store) -> dict[str, CallbackLedger]:
    """One callback ledger per organisation of the configured PBXs (`[[pbx]]`
    ``organisation``), keyed by PBX name, each with its owed callbacks restored: a call
    back from any PBX of an organisation closes a call missed on another."""
    views = settings.pbx_views()
    members: dict[str, set[str]] = {}
    for view in views:
        members.setdefault(settings.organisation_of(view.ami.pbx), set()).add(view.ami.pbx)
    standards = standards_of(settings)
    ledgers = {
        organisation: CallbackLedger(standards, owed_obligations(store, pbxs))
        for organisation, pbxs in members.items()
    }
    return {view.ami.pbx: ledgers[settings.organisation_of(view.ami.pbx)] for view in views}


@dataclass(frozen=True)
class ReplaySummary:
    """What a replay stored: counts for the one-line report."""

    messages: int
    calls: int
    obligations: int
    anomalies: int


def replay(
    settings: Settings,
    recording: Path,
    store: Store,
    on_bytes: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Feed a recorded AMI stream through the tracker and a record stream into the store.

    on_bytes: told the size of each chunk of AMI bytes replayed (for progress)."""
    pipeline = build_pipeline(settings, store)
    stream = RecordStream()
    writer = StoreWriter(store)
    stream.subscribe("store", writer.handle)
    try:
        replay_file(recording, pipeline, StreamSink(stream), on_bytes=on_bytes)
    finally:
        writer.close()
    return ReplaySummary(
        messages=pipeline.counters.messages,
        calls=writer.calls_written,
        obligations=writer.obligations_written,
        anomalies=sum(pipeline.tracker.anomalies.values()),
    )


def journal_for(settings: Settings, store: Store) -> Journal:
    """The journal of the configured PBX writing to `store`: in ``ami.journal_dir`` (else
    ``journal/`` in the data directory), named for the PBX and the database, so that
    two databases never replay each other's calls."""
    ami = settings.ami
    directory = ami.journal_dir or data_directory() / "journal"
    database = hashlib.sha256(store.url_for_display.encode()).hexdigest()[:8]
    return Journal(
        directory, f"{ami.pbx}-{database}", max_bytes=ami.journal_max_megabytes * 1024 * 1024
    )


class _StoreInBatches:
    """A pipeline sink writing the stored changes to the store, `RECOVERY_BATCH_CHANGES`
    at a time, in this thread (a failed write raises its StoreError)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls = 0
        self._pending: list[Change] = []

    def write(self, batch: Batch) -> None:
        self._pending += [c for c in batch.changes if isinstance(c, STORED_CHANGES)]
        if len(self._pending) >= RECOVERY_BATCH_CHANGES:
            self.flush()

    def flush(self) -> None:
        self.calls += write_changes(self.store, self._pending)["calls"]
        self._pending = []


def recover_from_journal(journal: Journal, pipeline: CallPipeline, store: Store) -> int:
    """Replay `journal` from its checkpoint through `pipeline` into `store`, then move the
    checkpoint to its end; returns the calls stored (again)."""
    sink = _StoreInBatches(store)
    replayed = replay_journal(journal, pipeline, sink)
    sink.flush()
    journal.advance_checkpoint(replayed.end)
    if replayed.messages:
        log.warning(
            "replayed %d AMI events from the journal in %s (bytes %d to %d) since the "
            "listener last stopped: stored %d calls",
            replayed.messages,
            journal.directory,
            replayed.start,
            replayed.end,
            sink.calls,
        )
    return sink.calls


def make_listener(
    settings: Settings,
    store: Store,
    stream: RecordStream,
    recorder: Recorder | None = None,
    journal: Journal | None = None,
    unstored: UnstoredCalls | None = None,
    ledger: CallbackLedger | None = None,
) -> Listener:
    """A listener for the configured AMI, publishing on `stream`.

    store: only read, to restore the callback obligations still owed and to learn
    when a listener last saw the PBX (where the gap of this start begins); subscribe
    a `StoreWriter` to `stream` to store what the listener sees. journal: where every
    byte is journalled first; unstored: the calls the store has not confirmed (the
    journal's checkpoint follows them); ledger: the callback ledger it shares with the
    other PBXs of its organisation (None: its own).
    """
    ami = settings.ami
    warn_if_plaintext_login(ami)
    listener_settings = ListenerSettings(
        host=ami.host,
        port=ami.port,
        user=ami.user,
        secret=settings.ami_secret(),
        tls=ami.tls,
        ping_interval_seconds=ami.ping_interval_seconds,
        pong_timeout_seconds=ami.pong_timeout_seconds,
    )
    pipeline = build_pipeline(settings, store, ledger)
    seen_until = store.listener_seen_until(ami.pbx)
    return Listener(
        listener_settings,
        pipeline,
        StreamSink(stream),
        recorder,
        journal=journal,
        unstored=unstored,
        seen_until_before_start=seen_until,
    )


def warn_if_plaintext_login(ami: AmiSettings) -> bool:
    """Log one WARNING when the AMI login (secret) and events (caller numbers) would
    cross a network unencrypted: no TLS to a host that is not this one. True if warned."""
    if ami.tls or is_loopback(ami.host):
        return False
    log.warning(
        "AMI login to %s:%d is unencrypted: the secret and every caller number cross the "
        "network in clear; set ami.tls = true (and tlsenable = yes in Asterisk's manager.conf)",
        ami.host,
        ami.port,
    )
    return True


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine: localhost or a loopback IP."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BackgroundListener:
    """A live listener on its own thread and event loop (for the demo and lab tests).

    `start` returns once the first AMI login succeeded, or raises its one-line error (a
    refused login, or no PBX within the timeout: the listener is then stopped).
    """

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ringtest-listener", daemon=True)

    def start(self, timeout_seconds: float = 10.0) -> BackgroundListener:
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while self.listener.connects == 0 and self._error is None:
            if time.monotonic() > deadline:
                self.stop()
                raise PbxUnreachable(
                    f"AMI at {self.listener.address} did not accept the listener within "
                    f"{timeout_seconds:g} s: check the PBX is up"
                )
            time.sleep(0.01)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop listening; calls still open are stored as incomplete."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.listener.run(self._stop))
        except BaseException as error:
            self._error = error
        finally:
            self._loop.close()
