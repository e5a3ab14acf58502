"""The listener daemon survives what a live link does: drops, silence, restarts.

Fault injection against a scriptable fake AMI (tests/ami/fake_ami.py), fed with
streams recorded from the lab Asterisk. Conditions are awaited with deadlines;
nothing sleeps for a fixed time.
"""

import asyncio
import socket
import time
from pathlib import Path

import pytest

from ami_listener.listener import Listener, ListenerSettings
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline
from ami_listener.tracker import CallTracker
from ringtest.core.errors import AmiAuthFailed
from ringtest.core.records import CallOutcome
from ringtest.core.standards import Standards
from ringtest.lab.settings import lab_lines
from tests.ami.fake_ami import FakeAmi

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"
RINGTESTER = "+441382000199"
LINES = lab_lines()


class CollectingSink:
    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def write(self, batch: Batch) -> None:
        if batch:
            self.batches.append(batch)

    def ringtester_calls(self):
        return [call for b in self.batches for call in b.calls if call.caller == RINGTESTER]


def make_listener(fake: FakeAmi, sink: CollectingSink, secret: str = "right") -> Listener:
    standards = Standards()
    pipeline = CallPipeline(CallTracker("lab", LINES, standards), CallbackLedger(standards))
    settings = ListenerSettings(
        host="127.0.0.1",
        port=fake.port,
        user="listener",
        secret=secret,
        ping_interval_seconds=0.2,
        pong_timeout_seconds=0.2,
        first_backoff_seconds=0.05,
        max_backoff_seconds=0.2,
    )
    return Listener(settings, pipeline, sink)


async def until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def recorded_events(name: str) -> bytes:
    """A recorded stream without its banner (the fake sends its own)."""
    stream = (FIXTURES / f"{name}.ami").read_bytes()
    return stream[stream.index(b"\r\n") + 2 :]


def run_with_fake(scenario, **fake_options):
    async def main():
        fake = await FakeAmi(**fake_options).start()
        sink = CollectingSink()
        listener = make_listener(fake, sink)
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        try:
            await until(lambda: fake.logins >= 1)
            await scenario(fake, sink, listener)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await fake.stop()
        return sink, listener

    return asyncio.run(main())


def test_call_streamed_live_is_measured():
    async def scenario(fake, sink, listener):
        fake.push(recorded_events("ring_group_answers_after_1200ms"))
        await until(lambda: sink.ringtester_calls())

    sink, _ = run_with_fake(scenario)
    [call] = sink.ringtester_calls()
    assert call.outcome is CallOutcome.ANSWERED
    assert call.ring_seconds == pytest.approx(1.2, abs=0.05)


def test_call_in_progress_when_the_link_drops_is_stored_incomplete_and_later_calls_are_measured():
    stream = recorded_events("ring_group_answers_after_1200ms")
    half = stream.index(b"Event: DialEnd")

    async def scenario(fake, sink, listener):
        fake.push(stream[:half])
        await until(lambda: listener.pipeline.tracker.open_calls())
        fake.drop_all()
        await until(lambda: fake.logins >= 2)
        fake.push(recorded_events("person_answers_after_1500ms"))
        await until(lambda: len(sink.ringtester_calls()) >= 2)

    sink, listener = run_with_fake(scenario)
    dropped, measured = sink.ringtester_calls()
    assert dropped.outcome is CallOutcome.INCOMPLETE
    assert dropped.gap_note.startswith("AMI link to 127.0.0.1:")
    assert "lost at" in dropped.gap_note
    assert measured.outcome is CallOutcome.ANSWERED
    assert measured.ring_seconds == pytest.approx(1.5, abs=0.05)
    assert listener.connects == 2


def test_silent_pbx_is_pinged_and_the_link_is_reopened_when_no_pong_comes():
    async def scenario(fake, sink, listener):
        await until(lambda: fake.pings >= 1)
        await until(lambda: fake.logins >= 2)

    _, listener = run_with_fake(scenario, answers_pings=False)
    assert listener.connects >= 2


def test_answered_pings_keep_one_link_up():
    async def scenario(fake, sink, listener):
        await until(lambda: fake.pings >= 3)

    _, listener = run_with_fake(scenario)
    assert listener.connects == 1


def test_wrong_secret_on_first_connect_is_the_one_line_error():
    async def main():
        fake = await FakeAmi().start()
        try:
            listener = make_listener(fake, CollectingSink(), secret="wrong")
            with pytest.raises(AmiAuthFailed) as refused:
                await listener.run(asyncio.Event())
            return str(refused.value), fake.port
        finally:
            await fake.stop()

    message, port = asyncio.run(main())
    assert message == (
        f"AMI login to 127.0.0.1:{port} refused for user 'listener': "
        "check the user and secret in manager.conf"
    )


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_pbx_not_up_at_start_is_retried_with_backoff_until_it_answers(caplog):
    port = closed_port()

    def retries() -> list[str]:
        return [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]

    async def main():
        sink = CollectingSink()
        listener = make_listener(FakeAmi(port=port), sink)
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        await until(lambda: len(retries()) >= 3)
        fake = await FakeAmi(port=port).start()
        try:
            await until(lambda: fake.logins >= 1)
            fake.push(recorded_events("person_answers_after_1500ms"))
            await until(lambda: sink.ringtester_calls())
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await fake.stop()
        return listener, sink

    listener, sink = asyncio.run(main())
    refused = (
        f"AMI at 127.0.0.1:{port} is not answering (connection refused): check that Asterisk "
        "is running and manager.conf has enabled = yes on this address and port"
    )
    assert retries()[:3] == [
        f"{refused}; retrying in 0.05 s",
        f"{refused}; retrying in 0.1 s",
        f"{refused}; retrying in 0.2 s",
    ]
    assert listener.connects == 1
    [call] = sink.ringtester_calls()
    assert call.outcome is CallOutcome.ANSWERED
