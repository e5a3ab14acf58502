"""Replay the journal from its checkpoint, as the live listener saw it, before listening.

The journal holds every byte the listener read, so replaying it rebuilds what a
crash (or a store that never caught up) kept out of the store. It goes through the
same `CallPipeline`, the way the live listener feeds it:

* only events reach the tracker; replies to the listener's own actions (their
  ``ActionID`` starts with ``ringtest-``) are skipped, except the
  ``CoreShowChannel`` events of a resync, whose channels are adopted as the live
  listener adopted them;
* a zero-byte chunk marks a link boundary: the calls open there are finished as
  ``incomplete``, noting the moment of the last byte received before it (the real
  moment the link was lost), or, when the mark begins a segment, that the
  listener stopped then (it crashed or was stopped);
* the calls still open at the journal's end are finished the same way: the
  listener stopped after its last byte.

Calls stored before are upserted again, which changes nothing they know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ami_listener.frames import FrameBuffer
from ami_listener.journal import Journal
from ami_listener.listener import in_progress_note
from ami_listener.message import AmiMessage, parse_frame
from ami_listener.pipeline import CallPipeline, Sink

OWN_ACTION_ID_PREFIX = "ringtest-"
"""ActionIDs of the listener's own actions (`ami_listener.connection`)."""


@dataclass(frozen=True)
class JournalReplay:
    """What a replay went through: journal positions [start, end), chunks and messages."""

    start: int
    end: int
    chunks: int
    messages: int


def replay_journal(journal: Journal, pipeline: CallPipeline, sink: Sink) -> JournalReplay:
    """Feed the journal from its checkpoint through `pipeline` into `sink`; every call
    still open at its end is finished as ``incomplete``."""
    frames = FrameBuffer()
    last_byte_at: datetime | None = None
    chunks = messages = 0
    for chunk in journal.chunks_from(journal.checkpoint):
        chunks += 1
        if not chunk.data:
            if last_byte_at is not None:
                sink.write(pipeline.link_lost(_note(last_byte_at, chunk.begins_segment)))
            frames = FrameBuffer()
            continue
        last_byte_at = chunk.received_at
        for frame in frames.feed(chunk.data):
            messages += _feed(pipeline, sink, parse_frame(frame), chunk.received_at)
    if last_byte_at is not None:
        sink.write(pipeline.link_lost(_note(last_byte_at, listener_stopped=True)))
    return JournalReplay(journal.checkpoint, journal.end, chunks, messages)


def _feed(pipeline: CallPipeline, sink: Sink, message: AmiMessage, received_at: datetime) -> int:
    """Feed one message as the live connection would route it; 1 when it was an event."""
    if message.event is None:
        return 0
    if (message.action_id or "").startswith(OWN_ACTION_ID_PREFIX):
        if message.event == "CoreShowChannel":
            pipeline.tracker.adopt_in_flight(
                message, received_at, note=in_progress_note(received_at)
            )
        return 0
    sink.write(pipeline.feed_message(message, received_at))
    return 1


def _note(last_byte_at: datetime, listener_stopped: bool) -> str:
    if listener_stopped:
        return f"listener stopped at {last_byte_at.isoformat()} (replayed from its journal)"
    return f"AMI link lost at {last_byte_at.isoformat()} (replayed from its journal)"
