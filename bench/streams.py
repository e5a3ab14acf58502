"""Realistic synthetic AMI streams, built from the byte-exact lab recordings.

Each recording in ``tests/fixtures/ami/`` holds one call placed by the lab's
`ringtester` (+441382000199) with a chosen staff answer delay, plus whatever
else the lab PBX was doing. A `CallShape` is that one call cut out of its
recording: every frame of its Linkedid, plus the frames that belong to no call
(``TestEvent``, ``QueueMemberStatus``, ``Bridge*``) sent while it lasted, as
recorded. Its identifiers are turned into placeholders: Uniqueids and
Linkedids, channel names (``PJSIP/staff1-0000002e``), bridge ids, the caller's
number and each frame's ``Timestamp:``.

`synthesise` then writes N distinct calls of those shapes: call k starts
`start_spacing_seconds` after call k-1 (so a few calls are always in progress
at once, like a busy PBX), with fresh ids, its own caller number and shifted
timestamps, and the calls' frames merged in time order. Frames keep their CRLF
line ends; about half of them are ``VarSet``, as on the real PBX.

The outcome of each shape is what the tracker measured on the original
recording (`ShapeTruth`), so a generated stream can be checked call by call.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ami_listener.frames import FRAME_END, FrameBuffer
from ami_listener.message import parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline
from ami_listener.tracker import CallTracker
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.standards import Standards
from ringtest.lab.settings import lab_lines

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ami"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
RECORDED_CALLER = "+441382000199"
"""The lab ringtester's number: the caller of every recorded call."""


SHAPE_WEIGHTS = {
    "person_answers_after_1500ms": 4,
    "ring_group_answers_after_1200ms": 3,
    "queue_answers_after_1500ms": 3,
    "ivr_then_person_after_1000ms": 2,
    "caller_abandons_after_2_rings": 1,
    "caller_abandons_queue_after_2s": 1,
    "caller_abandons_in_ivr": 1,
    "busy_line": 1,
    "voicemail_after_12s": 1,
}
"""How often each recorded shape occurs in a synthetic stream: mostly answered calls."""

ANSWERED_SHAPES = (
    "person_answers_after_1500ms",
    "ring_group_answers_after_1200ms",
    "queue_answers_after_1500ms",
    "ivr_then_person_after_1000ms",
)
"""The shapes a person answers (no callback owed)."""

_TIMESTAMP = re.compile(rb"\r\nTimestamp: [0-9.]+")
_ID_HEADERS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")
_CHANNEL_HEADERS = ("Channel", "DestChannel")


@dataclass(frozen=True, slots=True)
class ShapeTruth:
    """What the tracker measured on the recorded call (the expected record of every copy)."""

    line: str
    outcome: CallOutcome
    answered_by: AnsweredBy
    ring_seconds: float | None
    rings: int | None
    ivr_seconds: float | None


@dataclass(frozen=True, slots=True)
class CallShape:
    """One recorded call as templates: `frames` are ``(seconds after its start, template)``.

    A template is the frame's bytes with ``%(name)s`` placeholders: ``ts`` for the
    Timestamp, ``caller`` for the caller's number, ``id0``.. for Uniqueids,
    ``chan0``.. for channel name suffixes, ``bridge0``.. for bridge ids.
    """

    name: str
    frames: tuple[tuple[float, bytes], ...]
    ids: int
    channels: int
    bridges: int
    truth: ShapeTruth

    @property
    def varset_frames(self) -> int:
        return sum(template.startswith(b"Event: VarSet\r\n") for _, template in self.frames)


def lab_standards() -> Standards:
    """The GB standards of the lab config (no ring-test caller IDs: every call is live)."""
    return Standards()


def load_shape(name: str, fixtures: Path = FIXTURES) -> CallShape:
    """Cut the ringtester's call out of recording `name` and template it."""
    frames = FrameBuffer().feed((fixtures / f"{name}.ami").read_bytes())
    messages = [parse_frame(frame) for frame in frames]
    [first] = [
        m for m in messages if m.event == "Newchannel" and m.get("CallerIDNum") == RECORDED_CALLER
    ]
    call_id = first.get("Linkedid")
    linked = [m for m in messages if m.get("Linkedid") == call_id]
    channels = {_channel_base(m.get("Channel", "")) for m in linked} - {""}
    started, ended = float(linked[0].get("Timestamp")), float(linked[-1].get("Timestamp"))
    kept = [
        (frame, message)
        for frame, message in zip(frames, messages, strict=True)
        if message.get("Linkedid") == call_id
        or (
            message.get("Linkedid") is None
            and message.get("Timestamp") is not None
            and started <= float(message.get("Timestamp")) <= ended
            and _channel_base(message.get("Channel", "")) in channels | {""}
        )
    ]
    ids = [call_id, *sorted({m.get(h) for _, m in kept for h in _ID_HEADERS} - {None, "", call_id})]
    bridges = sorted({m.get("BridgeUniqueid") for _, m in kept} - {None, ""})
    tokens = {**_numbered(ids, "id"), **_numbered(sorted(channels), "chan")}
    tokens |= _numbered(bridges, "bridge") | {RECORDED_CALLER: "caller"}
    pattern = _token_pattern(tokens)
    templated = tuple(
        (
            float(message.get("Timestamp")) - started,
            _template(frame, pattern, tokens),
        )
        for frame, message in kept
    )
    return CallShape(
        name=name,
        frames=templated,
        ids=len(ids),
        channels=len(channels),
        bridges=len(bridges),
        truth=_measure(name, [frame for frame, _ in kept]),
    )


def load_shapes(names: Iterable[str] = SHAPE_WEIGHTS) -> list[CallShape]:
    return [load_shape(name) for name in names]


@dataclass(frozen=True, slots=True)
class SyntheticCall:
    """One call written into a synthetic stream: its shape and identifiers."""

    call_id: str
    caller: str
    shape: CallShape
    started_at: float


def plan_calls(
    shapes: Sequence[CallShape],
    calls: int,
    *,
    weights: Sequence[int] | None = None,
    callers: Iterable[str] | None = None,
    start_spacing_seconds: float = 0.5,
    first_start: float = 1_795_000_000.0,
) -> Iterator[SyntheticCall]:
    """`calls` calls cycling through `shapes` by `weights`, each from the next caller."""
    if weights is None:
        weights = [SHAPE_WEIGHTS.get(shape.name, 1) for shape in shapes]
    order = [shape for shape, weight in zip(shapes, weights, strict=True) for _ in range(weight)]
    callers = iter(callers if callers is not None else citizen_numbers())
    for index, shape, caller in zip(range(calls), itertools.cycle(order), callers, strict=False):
        started_at = first_start + index * start_spacing_seconds
        yield SyntheticCall(f"{int(started_at)}.{index * 16}", caller, shape, started_at)


def citizen_numbers(count: int | None = None, first: int = 0) -> Iterator[str]:
    """Distinct possible GB numbers ``+441382NNNNNN`` (Dundee's range, as the lab uses)."""
    numbers = itertools.count(first) if count is None else range(first, first + count)
    for n in numbers:
        yield f"+441382{n % 1_000_000:06d}"


def call_frames(call: SyntheticCall) -> Iterator[tuple[float, bytes]]:
    """The frames of one call, ``(timestamp, bytes ending in CRLF CRLF)``, in recorded order."""
    shape = call.shape
    base = int(call.call_id.split(".")[1])
    values = {b"id%d" % n: b"%d.%d" % (call.started_at, base + n) for n in range(shape.ids)}
    values |= {b"chan%d" % n: b"%08x" % (base + n) for n in range(shape.channels)}
    values |= {b"bridge%d" % n: b"bench-%08x-%04x" % (base, n) for n in range(shape.bridges)}
    values[b"caller"] = call.caller.encode()
    for offset, template in shape.frames:
        at = call.started_at + offset
        values[b"ts"] = b"%.6f" % at
        yield at, template % values + FRAME_END


def synthesise(calls: Iterable[SyntheticCall]) -> Iterator[bytes]:
    """Every call's frames in time order (each call keeps its own order).

    `calls` must come in order of start; they are read lazily, so a stream of a
    million calls never holds more than the calls in progress.
    """
    upcoming = iter(calls)
    next_call = next(upcoming, None)
    in_progress: list[tuple[float, int, bytes, Iterator[tuple[float, bytes]]]] = []
    call_numbers = itertools.count()
    while True:
        while next_call is not None and (
            not in_progress or next_call.started_at <= in_progress[0][0]
        ):
            frames = call_frames(next_call)
            at, frame = next(frames)
            heapq.heappush(in_progress, (at, next(call_numbers), frame, frames))
            next_call = next(upcoming, None)
        if not in_progress:
            return
        _, call_number, frame, frames = heapq.heappop(in_progress)
        yield frame
        following = next(frames, None)
        if following is not None:
            heapq.heappush(in_progress, (following[0], call_number, following[1], frames))


def stream_bytes(calls: Sequence[SyntheticCall]) -> bytes:
    """A whole AMI session's bytes: banner, then every call's frames."""
    return BANNER + b"".join(synthesise(calls))


def calls_for_events(shapes: Sequence[CallShape], events: int) -> int:
    """How many calls of the default mix make at least `events` frames."""
    weights = [SHAPE_WEIGHTS.get(shape.name, 1) for shape in shapes]
    frames_per_cycle = sum(len(s.frames) * w for s, w in zip(shapes, weights, strict=True))
    return -(-events * sum(weights) // frames_per_cycle)


def _measure(name: str, frames: list[bytes]) -> ShapeTruth:
    """What the tracker makes of the cut-out recorded call."""
    standards = lab_standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    batch = pipeline.feed_bytes(BANNER + b"".join(f + FRAME_END for f in frames), datetime.now(UTC))
    batch.extend(pipeline.link_lost("end of recording"))
    records = [record for record in batch.calls if record.caller == RECORDED_CALLER]
    if len(records) != 1 or pipeline.tracker.anomalies:
        raise ValueError(f"recording {name} does not hold exactly one whole ringtester call")
    [record] = records
    return ShapeTruth(
        record.line,
        record.outcome,
        record.answered_by,
        record.ring_seconds,
        record.rings,
        record.ivr_seconds,
    )


def _channel_base(channel: str) -> str:
    """``PJSIP/staff1-0000002e;2`` -> ``PJSIP/staff1-0000002e`` (the Local half dropped)."""
    return channel.partition(";")[0]


def _numbered(values: Iterable[str], prefix: str) -> dict[str, str]:
    return {value: f"{prefix}{n}" for n, value in enumerate(values)}


def _token_pattern(tokens: dict[str, str]) -> re.Pattern[bytes]:
    """Matches any token as a whole value: ``1.45`` is not found in ``1.456``."""
    alternatives = sorted((re.escape(token.encode()) for token in tokens), key=len, reverse=True)
    return re.compile(rb"(?<![\w.])(" + b"|".join(alternatives) + rb")(?![\w])")


def _template(frame: bytes, pattern: re.Pattern[bytes], tokens: dict[str, str]) -> bytes:
    """The frame with its identifiers as ``%(name)s`` placeholders (channel suffix only)."""
    escaped = frame.replace(b"%", b"%%")
    escaped = _TIMESTAMP.sub(b"\r\nTimestamp: %(ts)s", escaped)

    def placeholder(match: re.Match[bytes]) -> bytes:
        token = match.group(1).decode()
        name = tokens[token]
        if name.startswith("chan"):
            prefix = token.rpartition("-")[0]
            return f"{prefix}-%({name})s".encode()
        return f"%({name})s".encode()

    return pattern.sub(placeholder, escaped)
