"""What keeps live data safe: recordings replay to the same calls, a failing store
is retried without losing calls, and a handler that raises does not stop the reader."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_listener.connection import AmiConnection
from ami_listener.message import parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline, replay_file
from ami_listener.recording import MAGIC, Recorder, RecordingCorrupt, read_chunks
from ami_listener.tracker import CallTracker
from ringtest.core.standards import Standards
from ringtest.core.stream import CallEnded
from ringtest.lab.settings import lab_lines
from ringtest.store.writer import StoreWriter

FIXTURE = Path(__file__).parents[1] / "fixtures" / "ami" / "ring_group_answers_after_1200ms.ami"
LISTENED_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class ListSink:
    def __init__(self) -> None:
        self.batch = Batch()

    def write(self, batch: Batch) -> None:
        self.batch.extend(batch)


def replayed_calls(path: Path):
    sink = ListSink()
    standards = Standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    replay_file(path, pipeline, sink)
    return sink.batch.calls


def test_own_recording_replays_to_the_same_calls_as_the_raw_stream(tmp_path):
    stream = FIXTURE.read_bytes()
    recording = tmp_path / "listen.rec"
    recorder = Recorder(recording)
    for number, start in enumerate(range(0, len(stream), 1000)):
        recorder.write(LISTENED_AT + timedelta(milliseconds=number), stream[start : start + 1000])
    recorder.close()
    assert recording.read_bytes().startswith(MAGIC)
    assert b"".join(chunk for _, chunk in read_chunks(recording)) == stream
    assert replayed_calls(recording) == replayed_calls(FIXTURE)


def test_recording_cut_off_mid_chunk_replays_what_was_whole(tmp_path):
    recording = tmp_path / "cut.rec"
    recorder = Recorder(recording)
    recorder.write(LISTENED_AT, b"Event: FullyBooted\r\n\r\n")
    recorder.write(LISTENED_AT, b"Event: Newchannel\r\n\r\n")
    recorder.close()
    whole = recording.read_bytes()
    recording.write_bytes(whole[:-5])
    assert [chunk for _, chunk in read_chunks(recording)] == [b"Event: FullyBooted\r\n\r\n"]


BOOTED = b"Event: FullyBooted\r\n\r\n"
DAMAGE_AT_BYTE = len(MAGIC) + len(b"1795000000.000000 22\n") + len(BOOTED) + 1


def recording_with_second_header(header: bytes) -> bytes:
    """Three 22-byte chunks, the second with `header`; it starts at byte DAMAGE_AT_BYTE."""
    whole = b"1795000000.000000 22\n" + BOOTED + b"\n"
    return MAGIC + whole + header + b"\n" + BOOTED + b"\n" + whole


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b"inf 22", "chunk 2 has a bad header 'inf 22' (its time is not UNIX seconds)"),
        (b"1e20 22", "chunk 2 has a bad header '1e20 22' (its time is not UNIX seconds)"),
        (
            b"1795000000.0 99999999999",
            "chunk 2 has a bad header '1795000000.0 99999999999' (its byte count is not a "
            "whole number up to 1048576)",
        ),
        (
            b"1795000000.0 -22",
            "chunk 2 has a bad header '1795000000.0 -22' (its byte count is not a whole number "
            "up to 1048576)",
        ),
        (
            b"1795000000.0",
            "chunk 2 has a bad header '1795000000.0' (not '<UNIX seconds> <byte count>')",
        ),
        (b"1795000000.0 30", "chunk 2 is not the 30 bytes its header says"),
        (b"1795000000.0 10", "chunk 2 is not the 10 bytes its header says"),
    ],
)
def test_damaged_chunk_header_is_one_line_naming_the_byte_not_a_silent_stop(
    tmp_path, header, problem
):
    recording = tmp_path / "damaged.rec"
    recording.write_bytes(recording_with_second_header(header))

    with pytest.raises(RecordingCorrupt) as raised:
        list(read_chunks(recording))

    assert str(raised.value) == (
        f"{recording}: byte {DAMAGE_AT_BYTE}: {problem}: the recording is damaged there; to "
        f"replay the chunks before it, cut a copy at that byte (head -c {DAMAGE_AT_BYTE})"
    )


def test_cut_copy_of_a_damaged_recording_replays_the_chunks_before_the_damage(tmp_path):
    recording = tmp_path / "cut.rec"
    recording.write_bytes(recording_with_second_header(b"inf 22")[:DAMAGE_AT_BYTE])

    assert [chunk for _, chunk in read_chunks(recording)] == [BOOTED]


def test_recording_cut_off_mid_header_replays_what_was_whole_and_says_what_was_not(
    tmp_path, caplog
):
    recording = tmp_path / "cut.rec"
    recording.write_bytes(
        recording_with_second_header(b"1795000000.000000 22")[: DAMAGE_AT_BYTE + 7]
    )

    assert [chunk for _, chunk in read_chunks(recording)] == [BOOTED]
    assert caplog.messages == [
        f"{recording}: byte {DAMAGE_AT_BYTE}: the recording ends inside a chunk (its writer "
        "stopped mid-write): the last 7 bytes were not replayed"
    ]


class FlakyStore:
    """A store whose first writes fail, as a database that is briefly down would."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[list] = []

    def save_calls(self, records) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("database is locked")
        self.written.append(list(records))
        return len(records)


def test_store_that_fails_for_a_while_loses_no_calls():
    calls = replayed_calls(FIXTURE)
    store = FlakyStore(failures=3)
    writer = StoreWriter(store, retry_seconds=0.01)
    writer.handle([CallEnded(call) for call in calls])
    writer.close()
    assert writer.write_errors == 3
    assert [c for b in store.written for c in b] == calls


def test_event_handler_that_raises_is_counted_and_the_next_event_still_arrives():
    seen = []

    def handler(message):
        if message.event == "Newstate":
            raise ValueError("bug in a handler")
        seen.append(message.event)

    connection = AmiConnection("127.0.0.1", 0, on_event=handler)
    for frame in (b"Event: Newstate", b"Event: Hangup"):
        connection.dispatch(parse_frame(frame))
    assert connection.handler_errors == 1
    assert seen == ["Hangup"]
