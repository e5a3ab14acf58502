"""Who answered, the audio weighed with the wire: only the PBX answers a phone that never rang."""

from datetime import UTC, datetime

from ringtest.core.records import AnsweredBy
from ringtest.sip.greeting import Greeting
from ringtest.sip.timeline import SipTimeline
from ringtest.sip.verdict import weighed_with_the_wire

PLACED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHORT_GREETING = Greeting(AnsweredBy.PERSON, "a short greeting, then waiting for us", 0.2, 2.6, 3)


def timeline(**marks: float) -> SipTimeline:
    return SipTimeline(placed_at=PLACED_AT, invite_sent=100.0, answered=105.0, **marks)


def test_a_short_greeting_on_a_line_answered_before_any_ringing_is_an_ivr():
    greeting = weighed_with_the_wire(SHORT_GREETING, timeline())
    assert greeting.answered_by is AnsweredBy.IVR
    assert greeting.reason == "answered before any ringing, then a short prompt"
    assert greeting.greeting_seconds == 2.6


def test_a_short_greeting_after_ringing_stays_a_person():
    for marks in ({"first_180": 101.0}, {"first_183": 101.0}, {"first_early_media": 101.0}):
        assert weighed_with_the_wire(SHORT_GREETING, timeline(**marks)) is SHORT_GREETING


def test_only_a_person_verdict_is_weighed():
    beep = Greeting(AnsweredBy.VOICEMAIL, "a voicemail beep", beep_at_seconds=9.0)
    assert weighed_with_the_wire(beep, timeline()) is beep
