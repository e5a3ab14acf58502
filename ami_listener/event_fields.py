"""The values the call tracker keeps from an AMI event, checked and bounded.

Pure, like the tracker (`ami_listener.tracker`) it serves: every value a call
record stores from an event comes through `EventFields`, so none is stored as
it came when it makes no sense. What does not pass is counted in the tracker's
anomaly counter by kind, never raised.

The bounds (`MAX_CHARS_BY_HEADER`):

* ``Uniqueid`` and ``Linkedid``: at most `MAX_ID_CHARS` (150, Asterisk's own
  AST_MAX_UNIQUEID) printable characters, and a Uniqueid is never empty. They
  key channels and calls, and a cut one could merge two calls, so an event
  whose ids fail is refused whole;
* ``CallerIDNum`` and ``Exten``: at most `MAX_NUMBER_CHARS` (80, Asterisk's
  AST_MAX_EXTENSION; an E.164 number is at most 16 characters with its ``+``)
  printable characters. A longer or unprintable value is no number: it is not
  stored (a cut number would be a wrong one);
* names (``CallerIDName``, ``ConnectedLineName``) are never read, so never stored.

Times: an event's ``Timestamp:`` (`ami_listener.message.server_time_of`) when
readable, else its receive time, counted when the header was there but
unreadable. A resync's ``Duration`` that is unreadable, negative or over a year
counts as zero.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from ami_listener.message import AmiMessage, server_time_of
from ami_listener.open_call import duration_of

MAX_ID_CHARS = 150
"""Longest ``Uniqueid``/``Linkedid`` taken; also the longest call id stored."""
MAX_NUMBER_CHARS = 80
"""Longest ``CallerIDNum``/``Exten`` taken; also the longest caller and dialled number stored."""
MAX_CHARS_BY_HEADER = {
    "Uniqueid": MAX_ID_CHARS,
    "Linkedid": MAX_ID_CHARS,
    "CallerIDNum": MAX_NUMBER_CHARS,
    "Exten": MAX_NUMBER_CHARS,
}
"""Every header whose value the tracker stores, and its bound in characters."""

NO_LINKEDID = "Linkedid empty or missing: channel keyed by its Uniqueid"
NO_UNIQUEID = "Uniqueid empty: event refused"
UNREADABLE_TIMESTAMP = "Timestamp unreadable: timed at receipt"
UNREADABLE_DURATION = "CoreShowChannel Duration unreadable: started at the resync"


def unusable(header: str) -> str:
    """The anomaly kind of a value of `header` over its bound or not printable."""
    return f"{header} over {MAX_CHARS_BY_HEADER[header]} characters or not printable: not taken"


class EventFields:
    """Reads checked values from events, counting what fails in `anomalies` (the tracker's)."""

    def __init__(self, anomalies: Counter[str]) -> None:
        self.anomalies = anomalies

    def instant(self, message: AmiMessage, received_at: datetime) -> datetime:
        """When `message` happened: its ``Timestamp:``, else `received_at` (counted when
        the header is there but unreadable)."""
        timestamp = message.get("Timestamp")
        if timestamp is None:
            return received_at
        at = server_time_of(timestamp)
        if at is None:
            self.anomalies[UNREADABLE_TIMESTAMP] += 1
            return received_at
        return at

    def bounded(self, message: AmiMessage, header: str) -> str | None:
        """`header`'s value ("" when absent); None, counted, when it is over its bound in
        `MAX_CHARS_BY_HEADER` or not printable."""
        value = message.get(header) or ""
        if len(value) <= MAX_CHARS_BY_HEADER[header] and value.isprintable():
            return value
        self.anomalies[unusable(header)] += 1
        return None

    def channel_keys(self, message: AmiMessage) -> tuple[str, str] | None:
        """(Uniqueid, call id) of a channel that starts or joins a call: the call id is its
        Linkedid, else (counted) its own Uniqueid. None (counted) when they key nothing."""
        uniqueid = self.bounded(message, "Uniqueid")
        linkedid = self.bounded(message, "Linkedid")
        if uniqueid is None or linkedid is None:
            return None
        if not uniqueid:
            self.anomalies[NO_UNIQUEID] += 1
            return None
        if not linkedid:
            self.anomalies[NO_LINKEDID] += 1
            return uniqueid, uniqueid
        return uniqueid, linkedid

    def duration_up(self, channel: AmiMessage) -> timedelta:
        """How long a channel listed at a resync has been up; zero (counted) when unreadable."""
        duration = duration_of(channel.get("Duration") or "")
        if duration is None:
            self.anomalies[UNREADABLE_DURATION] += 1
            return timedelta()
        return duration
