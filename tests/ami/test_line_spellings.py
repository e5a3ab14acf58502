"""A monitored number matches every spelling a trunk delivers it in, and a call from the
public that matches no line is reported (logged once an hour per number, stored for
`ringtest lines`), while staff's outbound calls never are.

The calls are the lab's byte-exact `person_answers_after_1500ms` capture, with the
extension the caller dialled (2001) replaced by a DID as a UK trunk delivers it.
"""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline, replay_file
from ami_listener.tracker import CallTracker
from ringtest.config.adapters import line_directory_of
from ringtest.core.records import UnmatchedInboundCall
from ringtest.core.standards import Standards
from ringtest.core.stream import InboundCallUnmatched
from ringtest.lab.settings import lab_settings

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ami" / "person_answers_after_1500ms.ami"
RINGTESTER = "+441382000199"
SPELLINGS = ["+441382434001", "441382434001", "00441382434001", "01382434001"]
GB = Standards()


def lab_with(number: str | None = None) -> LineDirectory:
    """The lab's settings, plus a line by number 01382 434001 when `number` is given."""
    lines = [{"number": number, "department": "Council Tax"}] if number else []
    return line_directory_of(lab_settings({"lines": lines}))


def capture_dialling(tmp_path: Path, dialled: str, context: str = "council-inbound") -> Path:
    """The capture with extension 2001 replaced by `dialled`, begun in `context`."""
    data = FIXTURE.read_bytes().replace(b"Exten: 2001\r\n", f"Exten: {dialled}\r\n".encode())
    data = data.replace(b"Extension: 2001\r\n", f"Extension: {dialled}\r\n".encode())
    data = data.replace(b"Context: council-inbound\r\n", f"Context: {context}\r\n".encode())
    path = tmp_path / "call.ami"
    path.write_bytes(data)
    return path


class ListSink:
    def __init__(self) -> None:
        self.batch = Batch()

    def write(self, batch: Batch) -> None:
        self.batch.extend(batch)


def replayed(path: Path, lines: LineDirectory) -> Batch:
    sink = ListSink()
    replay_file(path, CallPipeline(CallTracker("lab", lines, GB), CallbackLedger(GB)), sink)
    return sink.batch


def unmatched(batch: Batch) -> list[UnmatchedInboundCall]:
    return [c.call for c in batch.changes if isinstance(c, InboundCallUnmatched)]


@pytest.mark.parametrize("dialled", SPELLINGS)
def test_a_number_line_is_found_by_every_spelling_of_its_number(dialled: str) -> None:
    directory = LineDirectory([MonitoredLine("+441382434001", "Council Tax")])
    line = directory.for_dialled(dialled)
    assert line is not None and line.department == "Council Tax"


def test_a_number_line_is_not_found_by_another_number_or_an_extension() -> None:
    directory = LineDirectory([MonitoredLine("+441382434001", "Council Tax")])
    assert directory.for_dialled("01382434002") is None
    assert directory.for_dialled("2001") is None
    assert directory.for_dialled("s") is None


@pytest.mark.parametrize("dialled", SPELLINGS)
def test_a_call_to_any_spelling_of_a_configured_number_is_stored_for_its_line(
    tmp_path: Path, dialled: str
) -> None:
    batch = replayed(capture_dialling(tmp_path, dialled), lab_with("01382 434001"))
    [call] = [call for call in batch.calls if call.caller == RINGTESTER]
    assert (call.line, call.department) == ("+441382434001", "Council Tax")
    assert call.ring_seconds == pytest.approx(1.5, abs=0.05)
    assert unmatched(batch) == []


def test_a_call_from_the_public_to_no_configured_line_is_reported_unmatched(
    tmp_path: Path,
) -> None:
    batch = replayed(capture_dialling(tmp_path, "441382999999"), lab_with())
    assert [call.caller for call in batch.calls].count(RINGTESTER) == 0
    [call] = unmatched(batch)
    assert (call.pbx, call.dialled) == ("lab", "441382999999")


def test_a_staff_call_out_to_a_number_is_never_reported_unmatched(tmp_path: Path) -> None:
    """A call that began in a staff context dialled a citizen (personal data): not kept."""
    batch = replayed(capture_dialling(tmp_path, "01632960001", "council-staff"), lab_with())
    assert unmatched(batch) == []
    [call] = [call for call in batch.dialled if call.caller == RINGTESTER]
    assert call.dialled == "01632960001"


def test_an_unmatched_number_is_logged_once_an_hour_without_the_callers_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pipeline = CallPipeline(CallTracker("lab", lab_with(), GB), CallbackLedger(GB))
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    minutes = [0, 20, 59, 61, 62]
    changes = [
        InboundCallUnmatched(UnmatchedInboundCall("lab", str(m), "441382999999", start))
        for m in minutes
    ]
    with caplog.at_level(logging.INFO, logger="ami_listener.pipeline"):
        for minute, change in zip(minutes, changes, strict=True):
            call = change.call
            moved = UnmatchedInboundCall(
                call.pbx, call.call_id, call.dialled, start + timedelta(minutes=minute)
            )
            pipeline._settle([InboundCallUnmatched(moved)])
        pipeline._settle(
            [InboundCallUnmatched(UnmatchedInboundCall("lab", "x", "441382888888", start))]
        )
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert [line.count("441382999999") for line in lines] == [1, 1, 0]
    assert "441382888888" in lines[2]
    assert "add a line for it" in lines[0]
    assert not any(RINGTESTER in line for line in lines)
