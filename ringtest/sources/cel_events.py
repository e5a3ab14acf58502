"""CEL rows -> the AMI events the live call tracker takes: pure, no I/O, no clock.

Theory of operation
-------------------
`ami_listener.tracker.CallTracker` holds every rule of what a call's ring time,
answer, outcome, IVR time and transfers mean. CEL records the same channels
(same Uniqueid and Linkedid) with the same server clock, so an import that
gives the tracker the AMI events each CEL row stands for measures a call
exactly as the listener did. `CelTranslator.events` makes them, each with the
row's eventtime as its ``Timestamp:`` (`EVENT_BY_CEL` is the table):

* CHAN_START -> ``Newchannel`` (caller number, extension, context);
* ANSWER -> ``Newstate Up``: a callee's is a person answering, the caller's
  the PBX answering (voicemail, an IVR, or nothing), as live;
* APP_START -> ``Newexten`` with its application (VoiceMail, Busy, Congestion,
  the IVR's prompts), and for ``Queue`` also ``QueueCallerJoin``: waiting in a
  queue is ringing;
* HANGUP -> ``Hangup`` with the Q.850 cause of its extra, after a ``DialEnd``
  carrying the extra's dialstatus (BUSY, CONGESTION, CHANUNAVAIL...);
* ATTENDEDTRANSFER -> ``AttendedTransfer`` (its extra names the transferee and
  the target; CEL logs only transfers that succeeded);
* BLINDTRANSFER, LOCAL_OPTIMIZE, BRIDGE_*, APP_END, CHAN_END, LINKEDID_END:
  nothing, as their AMI twins change nothing in the tracker (a blind-transferred
  caller keeps its channel and Linkedid; Local halves end by their hang-ups).

What CEL does not have, and what stands in for it:

* no ``Newstate Ringing``: a callee channel's ringing is taken to start at its
  CHAN_START (the ringing of the lab's phones follows within milliseconds). A
  callee that never rang (it answered the INVITE with busy or failure) must not
  start the clock, so its start is held (`held_rings`) until its own fate is
  known: its hang-up with a failure cause (`FAILURE_BY_HANGUP_CAUSE`) drops it;
  its answer, or a hang-up for any other reason (cancelled, answered elsewhere,
  timed out), lets it out as ``Newstate Ringing`` at its own instant, with every
  held start of the same call that began before it (those were still alive, so
  they rang too). The tracker takes its instants from the events, so ringing
  let out late still starts when the callee did;
* no ``NewCallerid``: every row carries the channel's caller number, so a
  caller's row whose number differs from the one before gives one;
* no ``SoftHangupRequest``: a call cut by a PBX shutdown reads as ended by its
  hang-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ami_listener.message import AmiMessage
from ami_listener.tracker import FAILURE_BY_HANGUP_CAUSE
from ringtest.sources.cel_rows import CelRow, extra_of

Headers = tuple[tuple[str, str], ...]


def _channel(row: CelRow) -> Headers:
    """The headers naming a row's channel and its call, with the row's instant."""
    return (
        ("Timestamp", row.eventtime),
        ("Channel", row.channame),
        ("Uniqueid", row.uniqueid),
        ("Linkedid", row.linkedid),
    )


def _event(name: str, row: CelRow, *headers: tuple[str, str]) -> AmiMessage:
    return AmiMessage((("Event", name), *_channel(row), *headers))


def _newchannel(row: CelRow) -> list[AmiMessage]:
    return [
        _event(
            "Newchannel",
            row,
            ("CallerIDNum", row.cid_num),
            ("Exten", row.exten),
            ("Context", row.context),
        )
    ]


def _answer(row: CelRow) -> list[AmiMessage]:
    return [_event("Newstate", row, ("ChannelStateDesc", "Up"))]


def _app_start(row: CelRow) -> list[AmiMessage]:
    newexten = _event(
        "Newexten",
        row,
        ("Extension", row.exten),
        ("Context", row.context),
        ("Application", row.appname),
        ("AppData", row.appdata),
    )
    if row.appname.casefold() != "queue":
        return [newexten]
    return [newexten, _event("QueueCallerJoin", row, ("Queue", row.appdata.split(",", 1)[0]))]


def _hangup(row: CelRow) -> list[AmiMessage]:
    extra = extra_of(row)
    dial_status = str(extra.get("dialstatus") or "")
    hangup = _event("Hangup", row, ("Cause", str(extra.get("hangupcause", ""))))
    if not dial_status:
        return [hangup]
    return [_event("DialEnd", row, ("DialStatus", dial_status)), hangup]


EVENT_BY_CEL: dict[str, Callable[[CelRow], list[AmiMessage]]] = {
    "CHAN_START": _newchannel,
    "ANSWER": _answer,
    "APP_START": _app_start,
    "HANGUP": _hangup,
}
"""CEL event type -> the AMI events it stands for (ATTENDEDTRANSFER needs state: it is
`CelTranslator`'s own); a type not here stands for none."""


CHANNEL_GONE = frozenset({"HANGUP", "CHAN_END", "LINKEDID_END"})
"""Rows after which a channel is forgotten: its hang-up and the rows that follow it (were
CHAN_END and LINKEDID_END to record it again, every channel would be kept for good:
1.4 million of them, 230 MB, in a 10-million-row file)."""


@dataclass
class CelTranslator:
    """Turns CEL rows, in file order, into AMI events for `CallTracker.feed`.

    held_rings: the CHAN_START rows of callees whose ringing is not known yet, by Uniqueid
    (see the module). Channels are forgotten at their HANGUP (and the rows after it,
    `CHANNEL_GONE`), so state is bounded by the calls in progress.
    """

    held_rings: dict[str, CelRow] = field(default_factory=dict)
    _caller_numbers: dict[str, str] = field(default_factory=dict)
    """Uniqueid of each live channel that started its own call -> its caller number."""
    _call_of_channel: dict[str, str] = field(default_factory=dict)
    """Uniqueid of each live channel -> the Linkedid it had at its last row."""

    def events(self, row: CelRow) -> list[AmiMessage]:
        """The AMI events `row` stands for, in order (often none)."""
        if row.eventtype == "CHAN_START":
            return self._channel_started(row)
        events = self._settled_ring(row) if row.eventtype in ("ANSWER", "HANGUP") else []
        events += self._caller_number_change(row)
        if row.eventtype == "ATTENDEDTRANSFER":
            events += self._attended_transfer(row)
        else:
            events += EVENT_BY_CEL.get(row.eventtype, lambda row: [])(row)
        if row.eventtype in CHANNEL_GONE:
            self._caller_numbers.pop(row.uniqueid, None)
            self._call_of_channel.pop(row.uniqueid, None)
        else:
            self._call_of_channel[row.uniqueid] = row.linkedid
        return events

    def _channel_started(self, row: CelRow) -> list[AmiMessage]:
        self._call_of_channel[row.uniqueid] = row.linkedid
        if row.uniqueid == row.linkedid:
            self._caller_numbers[row.uniqueid] = row.cid_num
        else:
            self.held_rings[row.uniqueid] = row
        return _newchannel(row)

    def _settled_ring(self, row: CelRow) -> list[AmiMessage]:
        """A held callee answered or hung up (`row`): nothing when it hung up with a failure
        cause (it never rang), else its ringing and that of its call's callees held since
        before it, as ``Newstate Ringing`` in the order they began."""
        start = self.held_rings.pop(row.uniqueid, None)
        if start is None or (row.eventtype == "HANGUP" and _failure_cause(row)):
            return []
        earlier = [
            held
            for held in self.held_rings.values()
            if held.linkedid == start.linkedid and held.at <= start.at
        ]
        for held in earlier:
            del self.held_rings[held.uniqueid]
        rang = sorted([*earlier, start], key=lambda held: held.at)
        return [_event("Newstate", held, ("ChannelStateDesc", "Ringing")) for held in rang]

    def _caller_number_change(self, row: CelRow) -> list[AmiMessage]:
        """A ``NewCallerid`` when a caller's number differs from its row before."""
        before = self._caller_numbers.get(row.uniqueid)
        if before is None or not row.cid_num or row.cid_num == before:
            return []
        self._caller_numbers[row.uniqueid] = row.cid_num
        return [_event("NewCallerid", row, ("CallerIDNum", row.cid_num))]

    def _attended_transfer(self, row: CelRow) -> list[AmiMessage]:
        extra = extra_of(row)
        transferee = str(extra.get("transferee_channel_uniqueid") or "")
        target = str(extra.get("transfer_target_channel_uniqueid") or "")
        if not transferee or not target:
            return []
        return [
            _event(
                "AttendedTransfer",
                row,
                ("Result", "Success"),
                ("TransfereeLinkedid", self._call_of_channel.get(transferee, "")),
                ("TransferTargetUniqueid", target),
            )
        ]


def _failure_cause(row: CelRow) -> bool:
    return str(extra_of(row).get("hangupcause", "")) in FAILURE_BY_HANGUP_CAUSE
