"""The services a ringtest daemon hosts, and their assembly into one process.

`ringtest run` hosts all of them in one process around one in-memory
`RecordStream`: the AMI listener publishes calls on it, the campaign scheduler's
ring tests publish their results on it, and the store (`StoreWriter`) is one
subscriber among those to come (the live view). `ringtest listen`,
`ringtest campaign run` and `ringtest callbacks-wait` are the same assembly with
fewer services (`DaemonPlan`). With `[history] cel_file` or `cdr_file` set, the listener
comes with the gap filler (`GapFillService`), which fills each of its coverage gaps from
the CEL (else the CDR); with `[history] import_every_minutes`, `ringtest run` and
`ringtest campaign run` import the PBX's history that often (`HistoryImportService`);
and, with `[web] enabled`, the live view
(`ringtest.web.server.WebService`, with `/metrics`), whose feed and metrics subscribe to
the stream before any service starts.

The shared parts are opened by the host before any service starts and closed
after they all stopped: the store's subscription first (so it is written last),
then this process's one SIP endpoint when a service places or answers calls (so
the campaign runner and the call-back answering reuse it, never race to start it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.routing import Route

from ami_listener.checkpoint import UnstoredCalls
from ami_listener.journal import Journal, JournalError
from ami_listener.listener import Listener
from ami_listener.recording import Recorder
from ami_listener.stats import ListenerStats
from ringtest.campaigns.daemon import CampaignDaemon, SyncReport, sip_endpoint_for
from ringtest.campaigns.model import CampaignDefinition
from ringtest.campaigns.source import load_campaigns
from ringtest.config import Settings
from ringtest.config.adapters import (
    line_directory_of,
    monitored_lines_by_pbx,
    standards_of,
)
from ringtest.core.stream import RecordStream
from ringtest.services.callback_answering import wait_for_callbacks
from ringtest.services.gap_fill import GapFillService, history_file
from ringtest.services.history_import import HistoryImportService
from ringtest.services.host import DaemonHost, Service, run_until_signalled
from ringtest.services.reload import SettingsReload
from ringtest.services.retention import RetentionService
from ringtest.sources.live_calls import (
    StoreWriter,
    journal_for,
    make_listener,
    recover_from_journal,
    shared_ledgers,
)
from ringtest.store import Store
from ringtest.store.writer import StoredHandler
from ringtest.web.app import build_web_app
from ringtest.web.metrics import build_metrics
from ringtest.web.server import WebService, feed_for

STOP_POLL_SECONDS = 0.1
"""seconds between the listener's looks at the host's stop event (its loop cannot wait on it)."""

StatsWatcher = Callable[[ListenerStats], None]
"""Told the listener's `ListenerStats` once it exists (the live view's health, /metrics)."""

FINAL_WRITE_SECONDS = 2.0
"""seconds the stopping listener gives the store for its last calls (the rest are replayed
from the journal at the next start), well inside the host's stop deadline."""


@dataclass(frozen=True)
class DaemonPlan:
    """Which services one process hosts.

    listen: the AMI listener (record_to: also save the raw AMI bytes there).
    campaigns: run these campaigns, their files re-read when edited
    (on_campaigns_started: told the first sync's report).
    answer_callbacks: answer call-backs on the registering SIP accounts until
    callbacks_until (UTC; None: until stopped).
    retention: apply the `[privacy]` retention at start and once a day.
    history_import: import the PBX's history every `[history] import_every_minutes`
    (`HistoryImportService`), when that is set.
    """

    listen: bool = False
    record_to: Path | None = None
    campaigns: Sequence[CampaignDefinition] = ()
    on_campaigns_started: Callable[[SyncReport], None] | None = None
    answer_callbacks: bool = False
    callbacks_until: datetime | None = None
    retention: bool = False
    history_import: bool = False

    @property
    def uses_sip(self) -> bool:
        return bool(self.campaigns) or self.answer_callbacks


class ListenerService:
    """The live AMI listeners, one per configured PBX, publishing every call on the host's
    stream from one event loop (a task group), each with its own journal, reconnects,
    stats and clock offset; the PBXs of one organisation share a callback ledger.

    Before connecting it checks that the store can be written (one line if not) and
    replays each PBX's journal from its checkpoint into the store. On stop it gives the
    store `FINAL_WRITE_SECONDS` to take the last calls, and then advances the
    checkpoints; it raises `JournalError` when something received could not be
    journalled (a non-zero exit: those bytes are not durable).
    """

    name = "listener"

    def __init__(
        self,
        settings: Settings,
        store: Store,
        subscription: StoreSubscription,
        record_to: Path | None,
        stats_watchers: Sequence[StatsWatcher] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.subscription = subscription
        self.record_to = record_to
        self.stats_watchers = stats_watchers
        self._running: tuple[list[Listener], asyncio.AbstractEventLoop] | None = None

    def run(self, stop: threading.Event) -> None:
        self.store.check_writable()
        views = self.settings.pbx_views()
        ledgers = shared_ledgers(self.settings, self.store)
        journals: list[Journal] = []
        recorders: list[Recorder] = []
        listeners: list[Listener] = []
        writer = self.subscription.writer
        try:
            for view in views:
                pbx = view.ami.pbx
                journals.append(journal_for(view, self.store))
                recorder = self._recorder_for(pbx, several=len(views) > 1)
                recorders += [recorder] if recorder is not None else []
                unstored = UnstoredCalls()
                listener = make_listener(
                    view,
                    self.store,
                    self.subscription.stream,
                    recorder,
                    journals[-1],
                    unstored,
                    ledgers[pbx],
                )
                if writer is not None:
                    listener.stats.watch_writer(writer)
                    writer.notify_stored(unstored.stored)
                for watch in self.stats_watchers:
                    watch(listener.stats)
                listeners.append(listener)
            for listener, journal in zip(listeners, journals, strict=True):
                recover_from_journal(journal, listener.pipeline, self.store)
            asyncio.run(self._listen_until(listeners, stop))
            if writer is not None:
                writer.wait_until_stored(FINAL_WRITE_SECONDS)
            for listener in listeners:
                listener.advance_checkpoint()
        finally:
            for journal in journals:
                journal.close()
            for recorder in recorders:
                recorder.close()
        _raise_unless_durable(journals)

    def _recorder_for(self, pbx: str, *, several: bool) -> Recorder | None:
        """The `--record` file of `pbx`'s raw AMI bytes: the path given, with the PBX's
        name before its suffix when there are several PBXs."""
        if self.record_to is None:
            return None
        path = self.record_to
        return Recorder(path.with_name(f"{path.stem}-{pbx}{path.suffix}") if several else path)

    async def _listen_until(self, listeners: list[Listener], stop: threading.Event) -> None:
        """Run `listeners` with an asyncio event that is set soon after `stop` is; the
        first failure of one (a refused login, say) stops them all and is raised."""
        stopping = asyncio.Event()
        watcher = asyncio.create_task(_set_when(stop, stopping))
        self._running = (listeners, asyncio.get_running_loop())
        try:
            async with asyncio.TaskGroup() as group:
                for listener in listeners:
                    group.create_task(listener.run(stopping))
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
        finally:
            self._running = None
            watcher.cancel()

    def reload(self, settings: Settings) -> None:
        """Match and measure calls by `settings`' lines and standards from the next event
        on, on the listeners' own loop (the links stay up); nothing when not running. A
        PBX added or removed takes a restart."""
        running = self._running
        if running is None:
            return
        listeners, loop = running
        views = {view.ami.pbx: view for view in settings.pbx_views()}
        for listener in listeners:
            view = views.get(listener.pipeline.tracker.pbx)
            if view is None:
                continue
            lines, standards = line_directory_of(view), standards_of(view)
            loop.call_soon_threadsafe(listener.pipeline.reconfigure, lines, standards)


def _raise_unless_durable(journals: Sequence[Journal]) -> None:
    """`JournalError` naming the first journal that could not write all it received."""
    for journal in journals:
        if not journal.durable:
            raise JournalError(
                f"{journal.failed_chunks} chunks ({journal.failed_bytes} bytes) received from "
                f"the AMI could not be written to the journal in {journal.directory}: calls "
                "in them that are not stored are lost; free space there or set ami.journal_dir"
            )


async def _set_when(stop: threading.Event, stopping: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(STOP_POLL_SECONDS)
    stopping.set()


class CampaignService:
    """The campaign scheduler: syncs the campaigns, then fires their slots until stopped."""

    name = "campaigns"

    def __init__(
        self, daemon: CampaignDaemon, on_started: Callable[[SyncReport], None] | None
    ) -> None:
        self.daemon = daemon
        self.on_started = on_started

    def run(self, stop: threading.Event) -> None:
        try:
            report = self.daemon.start()
            if self.on_started is not None:
                self.on_started(report)
            self.daemon.run_until(stop)
        finally:
            self.daemon.stop()


class CallbackService:
    """Answers call-backs to the test accounts and closes callback tests."""

    name = "callbacks"

    def __init__(self, settings: Settings, store: Store, until: datetime | None) -> None:
        self.settings = settings
        self.store = store
        self.until = until

    def run(self, stop: threading.Event) -> None:
        wait_for_callbacks(self.settings, self.store, stop, until=self.until)


def build_host(
    settings: Settings, store: Store, plan: DaemonPlan, stream: RecordStream | None = None
) -> DaemonHost:
    """A host for `plan`'s services around one stream (a new one when None)."""
    stream = stream if stream is not None else RecordStream()
    services: list[Service] = []
    subscription = StoreSubscription(store, stream)
    if plan.listen:
        watchers = _live_view(settings, store, stream, subscription, services)
        services.append(ListenerService(settings, store, subscription, plan.record_to, watchers))
        services += [
            GapFillService(view, store, stream)
            for view in settings.pbx_views()
            if history_file(view) is not None
        ]
    if plan.campaigns:
        sources = [Path(definition.source_path) for definition in plan.campaigns]
        daemon = CampaignDaemon(
            settings,
            store,
            plan.campaigns,
            reload=lambda: load_campaigns(sources, settings),
            stream=stream,
        )
        services.append(CampaignService(daemon, plan.on_campaigns_started))
    if plan.answer_callbacks:
        services.append(CallbackService(settings, store, plan.callbacks_until))
    if plan.retention:
        services.append(RetentionService(settings, store))
    if plan.history_import:
        importers = (HistoryImportService.configured(view, store) for view in settings.pbx_views())
        services += [importer for importer in importers if importer is not None]
    shared: list[AbstractContextManager[object]] = [subscription]
    if plan.uses_sip:
        shared.append(sip_endpoint_for(settings, plan.campaigns))
    return DaemonHost(services, shared=shared)


def _live_view(
    settings: Settings,
    store: Store,
    stream: RecordStream,
    subscription: StoreSubscription,
    services: list[Service],
) -> list[StatsWatcher]:
    """With `[web] enabled`, the live view's feed and `/metrics` on `stream` and their web
    service in `services`; returns what must see the listener's stats. `ConfigError`
    (before anything starts) when it would be exposed without a token."""
    if not settings.web.enabled:
        return []
    settings.web.check_exposure()
    feed = feed_for(settings, store)
    stream.subscribe("live view", feed.handle)
    subscription.on_stored(feed.stored)
    metrics = build_metrics(
        standards_of(settings),
        store,
        monitored_lines_by_pbx(settings),
        target_percent=settings.report.target_percent,
    )
    stream.subscribe("metrics", metrics.subscriber.handle)
    metrics_route = Route("/metrics", metrics.app, methods=["GET"])
    app = build_web_app(feed, settings.web.token_value(), extra_routes=[metrics_route])
    services.append(WebService(settings, feed, app))
    return [feed.watch_listener, metrics.watch_listener]


def run_daemon(
    settings: Settings,
    store: Store,
    plan: DaemonPlan,
    load_settings_again: Callable[[], Settings] | None = None,
) -> None:
    """Host `plan`'s services until SIGTERM or SIGINT; raise the first one's failure. Each
    SIGHUP reads the settings again with `load_settings_again` and hands them to the
    services (`ringtest.services.reload`; None: SIGHUP is ignored)."""
    host = build_host(settings, store, plan)
    if load_settings_again is None:
        run_until_signalled(host)
        return
    reload = SettingsReload(settings, load_settings_again)

    def on_hangup() -> None:
        reloaded = reload()
        if reloaded is not None:
            host.reload(reloaded)

    run_until_signalled(host, on_hangup)


def campaigns_to_run(
    files: Sequence[Path], settings: Settings, store: Store
) -> list[CampaignDefinition]:
    """The campaigns in `files`, else every stored campaign with its file re-read."""
    if files:
        return load_campaigns(files, settings)
    return load_campaigns([Path(campaign.source_path) for campaign in store.campaigns()], settings)


def receives_callbacks(settings: Settings) -> bool:
    """Whether any SIP account registers, so call-backs can reach it."""
    return any(account.register_ for account in settings.sip.accounts)


class StoreSubscription:
    """The store subscribed to a stream while the host runs; what is queued is written
    on leaving. writer: the `StoreWriter`, None until entered."""

    def __init__(self, store: Store, stream: RecordStream) -> None:
        self.store = store
        self.stream = stream
        self.writer: StoreWriter | None = None
        self._stored_handlers: list[StoredHandler] = []

    def on_stored(self, handler: StoredHandler) -> None:
        """Tell `handler` what each successful write stored, once the writer runs."""
        self._stored_handlers.append(handler)

    def __enter__(self) -> StoreWriter:
        self.writer = StoreWriter(self.store)
        for handler in self._stored_handlers:
            self.writer.notify_stored(handler)
        self.stream.subscribe("store", self.writer.handle)
        return self.writer

    def __exit__(self, *exc_info: object) -> None:
        if self.writer is not None:
            self.writer.close()
