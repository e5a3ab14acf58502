"""AMI events -> measured calls: a pure state machine (no socket, no database, no clock).

Theory of operation
-------------------
Asterisk gives every channel a ``Uniqueid`` and every channel of one call the
same ``Linkedid``: the Uniqueid of the channel that started it (the caller).
The Linkedid survives queue members, both halves of Local channels and a
blind-transfer target, so the tracker keys open calls by Linkedid (never by an
empty one, see below) and counts a call as finished when its last channel has
hung up (Local halves and ``LocalOptimization*`` never end a call on their own).

What the caller experiences, and which events show it (Asterisk 22):

* ringing began: the first callee channel's ``Newstate Ringing`` (the caller's
  ``DialState RINGING`` comes ~1 ms later and counts too), or the caller joining
  a queue (``QueueCallerJoin``): waiting in a queue is waiting to be answered;
* a person answered: a callee channel that is not a Local channel goes
  ``Newstate Up`` (the same instant as ``DialEnd ANSWER`` / ``AgentConnect``);
* the caller's own ``Newstate Up`` is only the PBX answering: it means
  voicemail when it follows ``Newexten Application: VoiceMail``, an IVR when the
  caller then hears ``Background``/``Read``/``WaitExten``/``Playback``, and
  nothing about a person otherwise;
* busy / failed: ``Busy``/``Congestion`` in the dialplan, ``DialEnd`` with
  BUSY/CONGESTION/CHANUNAVAIL, or the caller's hang-up cause; the caller's
  ``Newstate Busy`` comes with congestion as well, so it never overrides those;
* a blind transfer (``BlindTransfer``; the transferee is the caller's own
  channel, sent on through the dialplan) keeps the first person's answer: the
  caller's ringing ended there, and the call ends with its last channel;
* an attended transfer (``AttendedTransfer``) joins the caller to the transfer
  target, a channel of the transferring person's consultation call (another
  Linkedid). Asterisk silently gives the target the caller's Linkedid; the
  tracker moves it into the caller's call at that event too, so the consultation
  ends with its own channels and the caller's call keeps its first answer;
* the caller's number is the caller channel's ``CallerIDNum``, updated by
  ``NewCallerid`` when the dialplan rewrites it;
* a restart or shutdown hangs every channel up with ``SoftHangupRequest
  Cause: 4`` first: such calls are stored as ``incomplete``, not abandoned.

Every instant is the event's ``Timestamp:`` header (server time) when present,
else the receive time the feeder passes in. Records come out when a call ends:
a `CallRecord` for a call to a monitored line, a `DialledCall` for any other
call (staff calling a citizen back, say), which the callback ledger reads. A
call from the public (its first channel began in one of the line directory's
inbound contexts) that matched no line also gives an `InboundCallUnmatched`:
its dialled number is a council line nobody configured.

While a call to a monitored line is in progress its state changes come out as
they happen, for live views (`ringtest.core.stream`):

* `CallRinging` when the ringing that counts starts: the first ringing, or the
  first after an IVR (it restarts the clock, so a call can ring twice);
* `CallAnswered` when a person, voicemail or an IVR picks up, with the ringing
  heard until then. An IVR that hands over to a person gives two answers; a
  person answering ends the answers (a transfer target is no new answer).

An event that does not fit (a channel of a call that began before we were
listening, an unknown Linkedid) is counted in `anomalies` and skipped, never
raised. Open calls are bounded by `max_open_calls`: past it the oldest is
emitted as ``incomplete`` rather than kept for ever.

Input that makes no sense is counted in `anomalies` by kind too, and made safe
or refused, never stored as it came and never raised (the values kept pass
through `ami_listener.event_fields`, which states the bounds):

* an empty (or missing) ``Linkedid``: Asterisk always sends one, so this is a
  broken PBX or a forged frame. Keying by it would merge every such channel
  into one call, so the channel counts in the call it already joined, or else
  starts its own call keyed by its ``Uniqueid``;
* an empty, over-long or unprintable ``Uniqueid``/``Linkedid`` keys nothing:
  its ``Newchannel`` (or resync listing) is refused;
* an over-long or unprintable ``CallerIDNum``/``Exten`` (a 100,000-character
  caller ID, a NUL) is no number: a new call stores it empty (like a withheld
  number, so it opens no callback obligation), and a ``NewCallerid`` rewrite
  to it is refused (the call keeps the number it had);
* a ``Hangup`` of a channel never seen starting (its ``Newchannel`` came
  before we listened, or never) is refused: it must not end, or count in, a
  call it was never part of;
* an unreadable ``Timestamp:`` times its event at receipt instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from ami_listener.event_fields import NO_LINKEDID, EventFields
from ami_listener.lines import LineDirectory
from ami_listener.message import AmiMessage
from ami_listener.open_call import OpenCall
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord, DialledCall
from ringtest.core.standards import Standards, normalise_number
from ringtest.core.stream import CallAnswered, CallRinging, InboundCallUnmatched

IVR_APPLICATIONS = frozenset({"Background", "BackGround", "Read", "WaitExten", "Playback"})
"""Dialplan applications that mean a PBX-answered caller is listening to an IVR (the CDR
import reads a CDR's last application with the same set)."""

FAILURE_BY_APPLICATION = {"Busy": CallOutcome.BUSY, "Congestion": CallOutcome.FAILED}
FAILURE_BY_DIAL_STATUS = {
    "BUSY": CallOutcome.BUSY,
    "CONGESTION": CallOutcome.FAILED,
    "CHANUNAVAIL": CallOutcome.FAILED,
}
FAILURE_BY_HANGUP_CAUSE = {
    "17": CallOutcome.BUSY,
    "34": CallOutcome.FAILED,
    "38": CallOutcome.FAILED,
    "41": CallOutcome.FAILED,
    "42": CallOutcome.FAILED,
}
"""Q.850 causes on the caller's hang-up that mean the call failed (17 user busy, 34 no
circuit, 38 network out of order, 41 temporary failure, 42 congestion)."""

SOFT_HANGUP_SHUTDOWN = "4"
"""``SoftHangupRequest Cause: 4`` is Asterisk's AST_SOFTHANGUP_SHUTDOWN: a restart or
shutdown is hanging every channel up, so the call's end was not seen for what it was."""

DEFAULT_MAX_OPEN_CALLS = 100_000

HANGUP_OF_UNSEEN_CHANNEL = "Hangup of a channel never seen starting: refused"

TrackerOutput = CallRinging | CallAnswered | CallRecord | DialledCall | InboundCallUnmatched
Outputs = list[TrackerOutput]


class CallTracker:
    """Turns a stream of AMI messages into call-state changes and finished call records.

    pbx: label stored with each record. lines: which calls are monitored.
    standards: ring cadence, the rings standard and the ring-test caller IDs.
    anomalies: Counter of events that did not fit, by kind.
    """

    def __init__(
        self,
        pbx: str,
        lines: LineDirectory,
        standards: Standards,
        *,
        max_open_calls: int = DEFAULT_MAX_OPEN_CALLS,
    ) -> None:
        self.pbx = pbx
        self.lines = lines
        self.standards = standards
        self.max_open_calls = max_open_calls
        self.anomalies: Counter[str] = Counter()
        self._fields = EventFields(self.anomalies)
        self._calls: dict[str, OpenCall] = {}
        self._call_of_channel: dict[str, str] = {}
        """Uniqueid of every live channel -> the id (Linkedid) of the call it counts in."""
        self._handlers: dict[str, Callable[[OpenCall, AmiMessage, datetime], Outputs]] = {
            "Newexten": self._on_newexten,
            "Newstate": self._on_newstate,
            "DialState": self._on_dial_state,
            "DialEnd": self._on_dial_end,
            "QueueCallerJoin": self._on_queue_join,
            "NewCallerid": self._on_new_caller_id,
            "SoftHangupRequest": self._on_soft_hangup_request,
        }

    def feed(self, message: AmiMessage, received_at: datetime) -> Outputs:
        """Apply one message; return the state changes and finished records it caused
        (usually none), in the order they happened."""
        event = message.event
        if event == "Newchannel":
            return self._on_newchannel(message, self._fields.instant(message, received_at))
        if event == "Hangup":
            return self._on_hangup(message, self._fields.instant(message, received_at))
        if event == "AttendedTransfer":
            return self._on_attended_transfer(message, self._fields.instant(message, received_at))
        handler = self._handlers.get(event or "")
        if handler is None:
            return []
        call = self._calls.get(message.get("Linkedid") or self._call_id_without_linkedid(message))
        if call is None:
            self.anomalies[f"{event} for a call not being tracked"] += 1
            return []
        return handler(call, message, self._fields.instant(message, received_at))

    def open_calls(self) -> list[OpenCall]:
        """Calls in progress now, oldest first (live state for metrics)."""
        return sorted(self._calls.values(), key=lambda call: call.started_at)

    @property
    def open_call_count(self) -> int:
        """How many calls are in progress now (cheap, for stats)."""
        return len(self._calls)

    def adopt_in_flight(self, channel: AmiMessage, at: datetime, note: str) -> None:
        """Track a channel already up when we connected (a ``CoreShowChannel`` event).

        Its call was not seen from the start, so it will be stored as
        ``incomplete`` with `note`; its start is estimated from ``Duration``, counted
        back from the event's ``Timestamp:`` (the PBX's clock, as every other instant)
        when it has one, else from `at`.
        """
        keys = self._fields.channel_keys(channel)
        if keys is None:
            return
        uniqueid, call_id = keys
        call = self._calls.get(call_id)
        if call is None:
            call = OpenCall(
                call_id=call_id,
                caller_channel=call_id,
                caller="",
                dialled="",
                started_at=self._fields.instant(channel, at) - self._fields.duration_up(channel),
                gap_note=note,
            )
            self._calls[call_id] = call
        self._add_channel(call, uniqueid)
        if uniqueid == call_id:
            call.caller = self._caller_number(self._fields.bounded(channel, "CallerIDNum") or "")
            call.dialled = self._fields.bounded(channel, "Exten") or ""
            call.line = call.line or self.lines.for_dialled(call.dialled)

    def abandon_all(self, note: str) -> Outputs:
        """The event stream broke (reconnect): every open call becomes ``incomplete``."""
        calls, self._calls = list(self._calls.values()), {}
        self._call_of_channel.clear()
        return [call.record(self.pbx, self.standards, note) for call in calls]

    def _call_id_without_linkedid(self, message: AmiMessage) -> str:
        """The call of a channel event whose Linkedid is empty (counted): the call its
        channel joined, else the one its Uniqueid would key."""
        self.anomalies[NO_LINKEDID] += 1
        uniqueid = message.get("Uniqueid") or ""
        return self._call_of_channel.get(uniqueid, uniqueid)

    def _on_newchannel(self, message: AmiMessage, at: datetime) -> Outputs:
        keys = self._fields.channel_keys(message)
        if keys is None:
            return []
        uniqueid, call_id = keys
        call = self._calls.get(call_id)
        if call is not None:
            self._add_channel(call, uniqueid)
            return []
        if uniqueid != call_id:
            self.anomalies["Newchannel of a call that began before we listened"] += 1
            return []
        dialled = self._fields.bounded(message, "Exten") or ""
        call = OpenCall(
            call_id=call_id,
            caller_channel=uniqueid,
            caller=self._caller_number(self._fields.bounded(message, "CallerIDNum") or ""),
            dialled=dialled,
            started_at=at,
            line=self.lines.for_dialled(dialled),
            inbound=self.lines.is_inbound(message.get("Context", "")),
        )
        self._calls[call_id] = call
        self._add_channel(call, uniqueid)
        return self._evict_oldest_beyond_limit()

    def _on_newexten(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        if message.get("Uniqueid") != call.caller_channel:
            return []
        if call.line is None:
            exten = message.get("Extension") or message.get("Exten", "")
            call.line = self.lines.for_dialled(exten)
            if call.line is not None:
                call.dialled = exten
        application = message.get("Application", "")
        if application == "VoiceMail":
            call.voicemail_started = True
        elif application in FAILURE_BY_APPLICATION and not call.person_answered:
            call.failure = FAILURE_BY_APPLICATION[application]
        elif (
            application in IVR_APPLICATIONS
            and call.pbx_answered_at is not None
            and call.answered_by is AnsweredBy.NONE
            and call.ivr_started_at is None
        ):
            call.ivr_started_at = call.pbx_answered_at
            return self._answered(call, AnsweredBy.IVR, call.ivr_started_at)
        return []

    def _on_newstate(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        state = message.get("ChannelStateDesc", "")
        if message.get("Uniqueid") == call.caller_channel:
            return self._caller_state(call, state, at)
        if state == "Ringing":
            return self._ringing_began(call, at)
        if state == "Up" and not message.get("Channel", "").startswith("Local/"):
            return self._person_answered(call, at)
        return []

    def _caller_state(self, call: OpenCall, state: str, at: datetime) -> Outputs:
        """The caller's own channel state. ``Busy`` is what Asterisk sets for any busy
        *or congestion* indication (``Congestion()`` too), so it only says busy when
        nothing more specific (the application, a ``DialEnd`` status) was seen first."""
        if state == "Busy" and not call.person_answered:
            call.failure = call.failure or CallOutcome.BUSY
        elif state == "Up" and call.pbx_answered_at is None:
            call.pbx_answered_at = at
            if call.voicemail_started and call.answered_by is AnsweredBy.NONE:
                call.answered_by = AnsweredBy.VOICEMAIL
                call.answered_at = at
                return self._answered(call, AnsweredBy.VOICEMAIL, at)
        return []

    def _person_answered(self, call: OpenCall, at: datetime) -> Outputs:
        if call.answered_by not in (AnsweredBy.NONE, AnsweredBy.IVR):
            return []
        call.answered_by = AnsweredBy.PERSON
        call.answered_at = at
        if call.ring_started_at is None:
            call.ring_started_at = at
        return self._answered(call, AnsweredBy.PERSON, at)

    def _on_dial_state(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        if message.get("DialStatus") == "RINGING":
            return self._ringing_began(call, at)
        return []

    def _on_dial_end(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        failure = FAILURE_BY_DIAL_STATUS.get(message.get("DialStatus", ""))
        if failure is not None and not call.person_answered:
            call.failure = failure
        return []

    def _on_queue_join(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        if call.line is None:
            call.line = self.lines.for_queue(message.get("Queue", ""))
        return self._ringing_began(call, at)

    def _on_new_caller_id(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        """The dialplan rewrote the caller's number (e.g. normalised a prefix); a rewrite
        to no number (over-long, unprintable) is refused."""
        if message.get("Uniqueid") == call.caller_channel:
            rewritten = self._fields.bounded(message, "CallerIDNum")
            if rewritten is not None:
                call.caller = self._caller_number(rewritten)
        return []

    def _on_soft_hangup_request(self, call: OpenCall, message: AmiMessage, at: datetime) -> Outputs:
        """The PBX is shutting down (soft-hangup reason 4): its hang-ups are not the caller's."""
        if message.get("Cause") == SOFT_HANGUP_SHUTDOWN and call.gap_note is None:
            call.gap_note = f"cut off by the PBX shutting down at {at.isoformat()}"
        return []

    def _ringing_began(self, call: OpenCall, at: datetime) -> Outputs:
        """A callee or queue rang: a `CallRinging` when this is the ringing that counts."""
        if not call.ringing_began(at) or call.line is None:
            return []
        return [call.ringing(self.pbx, call.line, at, self.standards.is_test_caller(call.caller))]

    def _answered(self, call: OpenCall, by: AnsweredBy, at: datetime) -> Outputs:
        """`by` picked up a call at `at`: a `CallAnswered` when the line is monitored."""
        if call.line is None:
            return []
        return [call.answer(self.pbx, call.line, by, at, self.standards.ring_rule.rings)]

    def _on_hangup(self, message: AmiMessage, at: datetime) -> Outputs:
        """A channel hung up. It counts in the call it joined, whatever Linkedid Asterisk
        has given it since (see `_on_attended_transfer`); a channel never seen starting
        counts in none."""
        uniqueid = message.get("Uniqueid") or ""
        call_id = self._call_of_channel.pop(uniqueid, None)
        if call_id is None:
            tracked = (message.get("Linkedid") or "") in self._calls
            self.anomalies[
                HANGUP_OF_UNSEEN_CHANNEL if tracked else "Hangup for a call not being tracked"
            ] += 1
            return []
        call = self._calls[call_id]
        if uniqueid == call.caller_channel:
            call.ended_at = at
            cause_failure = FAILURE_BY_HANGUP_CAUSE.get(message.get("Cause", ""))
            if cause_failure is not None and call.answered_by is AnsweredBy.NONE:
                call.failure = call.failure or cause_failure
        return self._channel_gone(call, uniqueid, at)

    def _on_attended_transfer(self, message: AmiMessage, at: datetime) -> Outputs:
        """The transfer target (a channel of the consultation call) now talks to the
        transferee: move it into the transferee's call."""
        if message.get("Result") != "Success":
            return []
        target = message.get("TransferTargetUniqueid", "")
        into = self._calls.get(message.get("TransfereeLinkedid", ""))
        from_id = self._call_of_channel.get(target)
        if into is None or from_id is None:
            self.anomalies["AttendedTransfer of a call not being tracked"] += 1
            return []
        if from_id == into.call_id:
            return []
        self._add_channel(into, target)
        return self._channel_gone(self._calls[from_id], target, at)

    def _add_channel(self, call: OpenCall, uniqueid: str) -> None:
        call.live_channels.add(uniqueid)
        self._call_of_channel[uniqueid] = call.call_id

    def _channel_gone(self, call: OpenCall, uniqueid: str, at: datetime) -> Outputs:
        """`uniqueid` left `call`: the call is over when it was its last channel."""
        call.live_channels.discard(uniqueid)
        if call.live_channels:
            return []
        del self._calls[call.call_id]
        call.ended_at = call.ended_at or at
        unmatched = call.unmatched(self.pbx)
        record = call.record(self.pbx, self.standards)
        return [record] if unmatched is None else [record, unmatched]

    def _evict_oldest_beyond_limit(self) -> Outputs:
        evicted: list[TrackerOutput] = []
        while len(self._calls) > self.max_open_calls:
            oldest = next(iter(self._calls.values()))
            del self._calls[oldest.call_id]
            for uniqueid in oldest.live_channels:
                self._call_of_channel.pop(uniqueid, None)
            self.anomalies["open call evicted: too many open calls"] += 1
            evicted.append(oldest.record(self.pbx, self.standards, "evicted: too many open calls"))
        return evicted

    def _caller_number(self, raw: str) -> str:
        try:
            return normalise_number(raw, self.standards.default_region)
        except ValueError:
            return raw
