"""The daemon host: services on named threads, one failure stops all, stopping is bounded.

The services here are small fakes (fault injection); `ringtest run` against the lab
PBX is tested in tests/test_cli.py and tests/campaigns/test_lab_campaign.py.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ringtest.core.errors import PbxUnreachable
from ringtest.services.host import DaemonHost, run_until_signalled, stop_on_signals, wait_for

WAIT_SECONDS = 5.0


class Waiting:
    """Serves until stopped; records what it saw."""

    def __init__(self, name: str, events: list[str] | None = None) -> None:
        self.name = name
        self.events = events if events is not None else []
        self.started = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.events.append(f"{self.name} started")
        self.started.set()
        stop.wait()
        self.events.append(f"{self.name} stopped")


class Failing:
    """Fails once `go` is set."""

    def __init__(self, name: str, error: BaseException) -> None:
        self.name = name
        self.error = error
        self.go = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.go.wait()
        raise self.error


class Stuck:
    """Ignores the stop event until `release` is set."""

    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.release.wait()


def test_a_failing_service_is_logged_by_name_stops_the_others_and_is_raised(caplog):
    listener = Waiting("listener")
    error = PbxUnreachable("AMI at 127.0.0.1:5038 is not answering: check Asterisk")
    campaigns = Failing("campaigns", error)
    host = DaemonHost([listener, campaigns])
    campaigns.go.set()

    with pytest.raises(PbxUnreachable) as raised:
        run_until_signalled(host)

    assert raised.value is error
    assert listener.events == ["listener started", "listener stopped"]
    assert host.failures == {"campaigns": error}
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"service campaigns failed: {error}"
    ]


def test_an_unexpected_error_is_logged_with_its_traceback_and_the_service_name(caplog):
    broken = Failing("callbacks", ZeroDivisionError("division by zero"))
    broken.go.set()
    host = DaemonHost([broken])

    with pytest.raises(ZeroDivisionError):
        run_until_signalled(host)

    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.getMessage() == "service callbacks failed"
    assert logged.exc_info is not None


def test_a_service_that_ends_by_itself_stops_the_others():
    waiting = Waiting("listener")
    ending = Failing("callbacks", ZeroDivisionError())
    ending.run = lambda stop: None  # ends at once, like callbacks-wait --until
    host = DaemonHost([waiting, ending])

    run_until_signalled(host)

    assert waiting.events == ["listener started", "listener stopped"]
    assert host.failures == {}


def test_sigterm_stops_every_service_and_puts_the_old_handler_back():
    events: list[str] = []
    services = [Waiting("listener", events), Waiting("campaigns", events)]
    host = DaemonHost(services)
    before = signal.getsignal(signal.SIGTERM)

    def terminate_when_started() -> None:
        for service in services:
            service.started.wait(WAIT_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_started).start()
    run_until_signalled(host)

    assert sorted(events) == [
        "campaigns started",
        "campaigns stopped",
        "listener started",
        "listener stopped",
    ]
    assert signal.getsignal(signal.SIGTERM) is before


def test_stop_gives_up_on_a_stuck_service_within_the_bound_and_names_it(caplog):
    stuck = Stuck()
    host = DaemonHost([Waiting("listener"), stuck], stop_within_seconds=0.2)
    host.start()
    started = time.monotonic()
    try:
        late = host.stop()
        took = time.monotonic() - started
    finally:
        stuck.release.set()

    assert late == ["stuck"]
    assert took < 1.0
    assert "service stuck did not stop within 0.2 s" in caplog.text


def test_shared_parts_open_before_the_services_and_close_after_they_stopped():
    events: list[str] = []

    @contextmanager
    def part(name: str) -> Iterator[None]:
        events.append(f"{name} opened")
        yield
        events.append(f"{name} closed")

    service = Waiting("listener", events)
    host = DaemonHost([service], shared=[part("store"), part("endpoint")])
    host.start()
    assert service.started.wait(WAIT_SECONDS)
    host.stop()

    assert events == [
        "store opened",
        "endpoint opened",
        "listener started",
        "listener stopped",
        "endpoint closed",
        "store closed",
    ]


def test_a_shared_part_that_fails_to_open_closes_the_ones_opened_and_starts_nothing():
    events: list[str] = []

    @contextmanager
    def store() -> Iterator[None]:
        events.append("store opened")
        try:
            yield
        finally:
            events.append("store closed")

    @contextmanager
    def endpoint() -> Iterator[None]:
        raise PbxUnreachable("SIP endpoint could not start")
        yield

    service = Waiting("listener", events)
    with pytest.raises(PbxUnreachable):
        DaemonHost([service], shared=[store(), endpoint()]).start()

    assert events == ["store opened", "store closed"]


def test_stop_on_signals_gives_an_event_that_sigint_sets():
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert wait_for(stop, WAIT_SECONDS)


def test_wait_for_gives_up_after_its_timeout():
    started = time.monotonic()
    assert wait_for(threading.Event(), 0.3) is False
    assert 0.3 <= time.monotonic() - started < 1.0
