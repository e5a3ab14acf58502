"""One process, many services: start each on its own thread, stop them all together.

Theory of operation: a `Service` is anything with a ``name`` and a blocking
``run(stop)`` that serves until the `threading.Event` ``stop`` is set and then
returns promptly (the AMI listener, the campaign scheduler, the call-back
answering). `DaemonHost` opens what the services share (context managers: the store's
subscription, the SIP endpoint) before the first starts and closes it, in
reverse, after the last stopped. It runs each service on a named thread and
keeps the threads, so nothing is fire-and-forget:

* a service that raises is logged with its name, its error is kept in
  `failures`, and the host's stop is set, so the others stop too (a daemon half
  running is worse than one that says why it stopped);
* a service that returns by itself (``callbacks-wait --until``) stops the rest;
* `stop` sets the stop event and joins every thread within one shared
  deadline (`STOP_WITHIN_SECONDS`, monotonic), logging each one that is late.

`run_until_signalled` is the one SIGTERM/SIGINT loop of every ringtest daemon:
`stop_on_signals` turns those signals into the host's stop event, and the
first failure is raised again once everything stopped, so the CLI turns it
into its one line. SIGHUP calls its `on_hangup` on the main thread
(`ringtest.services.reload`), which hands new settings to `DaemonHost.reload`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, Protocol

from ringtest.core.errors import RingtestError

log = logging.getLogger(__name__)

STOP_WITHIN_SECONDS = 8.0
"""seconds: how long `DaemonHost.stop` waits, in all, for the services to return."""

SIGNAL_CHECK_SECONDS = 0.2
"""seconds between the main thread's wake-ups while it waits: a signal that lands on
another thread only runs its Python handler once the main thread runs again."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Service(Protocol):
    """One long-running part of a daemon; `run` blocks until `stop` is set."""

    name: str

    def run(self, stop: threading.Event) -> None: ...


class Reloadable(Protocol):
    """A service that takes new settings while it runs (`ringtest.services.reload`)."""

    def reload(self, settings: Any) -> None: ...


class DaemonHost:
    """Runs `services`, each on its own thread, until one ends or `stop` is called."""

    def __init__(
        self,
        services: Sequence[Service],
        *,
        shared: Sequence[AbstractContextManager[object]] = (),
        stop_within_seconds: float = STOP_WITHIN_SECONDS,
    ) -> None:
        names = [service.name for service in services]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must differ: {names}")
        self.services = list(services)
        self.shared = list(shared)
        self.stop_within_seconds = stop_within_seconds
        self.stopping = threading.Event()
        self.failures: dict[str, BaseException] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._opened = ExitStack()

    def start(self) -> None:
        """Open the shared parts, then start every service on a thread ``ringtest-<name>``."""
        with ExitStack() as opening:
            for part in self.shared:
                opening.enter_context(part)
            self._opened = opening.pop_all()
        for service in self.services:
            thread = threading.Thread(
                target=self._serve, args=(service,), name=f"ringtest-{service.name}", daemon=True
            )
            self._threads[service.name] = thread
            thread.start()
        log.info("hosting %s", ", ".join(self._threads))

    def wait(self) -> None:
        """Block until a service ended or the host was told to stop (signals are handled)."""
        wait_for(self.stopping)

    def stop(self) -> list[str]:
        """Tell every service to stop, wait for them, close the shared parts; return the
        names of the services still running."""
        self.stopping.set()
        deadline = time.monotonic() + self.stop_within_seconds
        late = []
        for name, thread in self._threads.items():
            thread.join(max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                late.append(name)
                log.error("service %s did not stop within %g s", name, self.stop_within_seconds)
        self._opened.close()
        return late

    def reload(self, settings: Any) -> None:
        """Hand `settings` to every service that takes new settings while it runs; one
        that fails to is logged and runs on as it was."""
        for service in self.services:
            reload = getattr(service, "reload", None)
            if reload is None:
                continue
            try:
                reload(settings)
            except Exception as error:
                log.error(
                    "service %s did not reload: %s: %s", service.name, type(error).__name__, error
                )

    def first_failure(self) -> BaseException | None:
        """The error of the first service that failed, None when none did."""
        with self._lock:
            return next(iter(self.failures.values()), None)

    def _serve(self, service: Service) -> None:
        try:
            service.run(self.stopping)
        except BaseException as error:
            with self._lock:
                self.failures[service.name] = error
            if isinstance(error, RingtestError):
                log.error("service %s failed: %s", service.name, error)
            else:
                log.exception("service %s failed", service.name)
        else:
            if not self.stopping.is_set():
                log.info("service %s ended; stopping the others", service.name)
        finally:
            self.stopping.set()


def run_until_signalled(host: DaemonHost, on_hangup: Callable[[], None] | None = None) -> None:
    """Run `host` until SIGTERM or SIGINT (or a service ends), stop it, and raise the
    first service's failure, if any. Each SIGHUP calls `on_hangup` (None: ignored)."""
    with stop_on_signals(host.stopping), hangups() as hung_up:
        host.start()
        try:
            while not wait_for(host.stopping, SIGNAL_CHECK_SECONDS):
                if hung_up.is_set():
                    hung_up.clear()
                    if on_hangup is None:
                        log.warning(
                            "SIGHUP ignored: only ringtest run and ringtest listen reload "
                            "their settings"
                        )
                    else:
                        on_hangup()
        finally:
            host.stop()
    failure = host.first_failure()
    if failure is not None:
        raise failure


@contextmanager
def stop_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event that SIGTERM and SIGINT set while inside the block (main thread only);
    the previous handlers are put back on leaving."""
    event = stop if stop is not None else threading.Event()
    previous = {number: signal.signal(number, lambda *_: event.set()) for number in STOP_SIGNALS}
    try:
        yield event
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def hangups() -> Iterator[threading.Event]:
    """An event that SIGHUP sets while inside the block (main thread only), instead of
    ending the process; the previous handler is put back on leaving."""
    event = threading.Event()
    previous = signal.signal(signal.SIGHUP, lambda *_: event.set())
    try:
        yield event
    finally:
        signal.signal(signal.SIGHUP, previous)


def wait_for(stop: threading.Event, timeout_seconds: float | None = None) -> bool:
    """Block until `stop` is set (True) or `timeout_seconds` pass (False), waking every
    `SIGNAL_CHECK_SECONDS` so that the main thread runs its signal handlers."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    while not stop.wait(SIGNAL_CHECK_SECONDS):
        if deadline is not None and time.monotonic() >= deadline:
            return False
    return True
