"""The lab council's fixed addresses, accounts and departments, as data.

The Asterisk config in ``docker/asterisk/`` holds the same values (a test checks
they agree); tests and the demo read them from here, never from literals.
Everything listens on loopback only, so fixed lab secrets are fine.

Ports (all on 127.0.0.1):

* 5038/tcp   AMI
* 5060/udp+tcp PJSIP
* 5061/tcp PJSIP over TLS (its certificate: `ringtest.lab.tls`)
* 10000-10999/udp Asterisk RTP
* 5071-5078/udp  lab staff agents staff1..staff8 (SIP), one sipp UAS each
* 5080/udp  the lab citizens' phone (citizenphone), a sipp UAS like the staff agents
* 12010-12090/udp  their RTP ports (staff1..7 use 12000 + 10 * N, citizenphone 12080,
  staff8 12090)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LAB_HOST = "127.0.0.1"
AMI_PORT = 5038
SIP_PORT = 5060
RTP_PORT_RANGE = (10000, 10999)
DEFAULT_ANSWER_MS = 2000
"""How long a staff agent rings before answering when the caller sends no X-Lab-Answer."""

ANSWER_HEADER = "X-Lab-Answer"
"""SIP header a lab caller sends to choose how staff answer: milliseconds, `busy` or `never`."""

GREETING_HEADER = "X-Lab-Greeting"
"""SIP header a lab caller sends to choose what staff say on answering (`LabGreeting`)."""

CALLER_HEADER = "X-Lab-Caller"
"""SIP header a lab caller sends to present another citizen number (+4413820001XX): the
lab's many citizens share the one `citizen` phone, which every such number rings back."""


@dataclass(frozen=True, slots=True)
class AmiUser:
    """A manager.conf user: `read` and `write` are Asterisk permission classes."""

    username: str
    secret: str
    read: tuple[str, ...]
    write: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SipAccount:
    """A pjsip.conf endpoint that places calls into the PBX with digest auth."""

    username: str
    secret: str
    caller_id: str
    context: str


@dataclass(frozen=True, slots=True)
class StaffAgent:
    """A council staff phone: a pjsip.conf endpoint whose AOR has a static contact
    at 127.0.0.1:`sip_port`, where a lab sipp UAS answers (RTP on `rtp_port`)."""

    username: str
    secret: str
    sip_port: int
    rtp_port: int
    scenario: str = "staff_uas.xml"
    """The sipp scenario (in ``ringtest/lab/scenarios/``) the agent runs."""

    @property
    def contact(self) -> str:
        return f"sip:{self.username}@{LAB_HOST}:{self.sip_port}"


class LabGreeting(StrEnum):
    """What a lab staff agent says on answering, chosen per call by `GREETING_HEADER`."""

    HELLO = "hello"
    """"Hello?" and nothing more (the default): no department named."""
    NAMED = "named"
    """The agent's `NAMED_GREETINGS` line: a greeting, its department and a first name."""


class LineKind(StrEnum):
    """How a department's line is answered."""

    PERSON = "person"
    RING_GROUP = "ring_group"
    QUEUE = "queue"
    IVR = "ivr"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    TRANSFER = "transfer"
    LOCAL = "local"
    FAILED = "failed"
    ATTENDED_TRANSFER = "attended_transfer"


@dataclass(frozen=True, slots=True)
class Department:
    """A council line: its short extension, public E.164 alias and who answers it."""

    name: str
    extension: str
    e164: str
    kind: LineKind
    staff: tuple[str, ...]
    queue: str | None = None
    """The Asterisk queue that answers the line (QUEUE lines only)."""


AMI_LISTENER = AmiUser(
    username="listener",
    secret="lab-listener-secret",
    read=("system", "call", "agent", "dialplan"),
    write=("reporting",),
)
AMI_ADMIN = AmiUser(
    username="ringtest-admin",
    secret="lab-admin-secret",
    read=("all",),
    write=("system", "call", "agent", "user", "originate", "reporting"),
)
AMI_WITHOUT_REPORTING = AmiUser(
    username="listener-no-reporting",
    secret="lab-no-reporting-secret",
    read=("system", "call", "agent", "dialplan"),
    write=(),
)
"""A listener user set up wrongly on purpose: it may not run CoreShowChannels."""
AMI_WITHOUT_DIALPLAN = AmiUser(
    username="listener-no-dialplan",
    secret="lab-no-dialplan-secret",
    read=("system", "call", "agent"),
    write=("reporting",),
)
"""A listener user set up wrongly on purpose: it cannot read Newexten (class dialplan)."""
AMI_USERS = (AMI_LISTENER, AMI_ADMIN, AMI_WITHOUT_REPORTING, AMI_WITHOUT_DIALPLAN)

INBOUND_CONTEXT = "council-inbound"
OUTBOUND_CONTEXT = "council-outbound"

CITIZEN = SipAccount("citizen", "lab-citizen-secret", "+441382000100", INBOUND_CONTEXT)
RINGTESTER = SipAccount("ringtester", "lab-ringtester-secret", "+441382000199", INBOUND_CONTEXT)
STAFFOUT = SipAccount("staffout", "lab-staffout-secret", "+441382434099", OUTBOUND_CONTEXT)
CALLERS = (CITIZEN, RINGTESTER, STAFFOUT)
DESK_PHONE = SipAccount("staff9", "lab-staff9-secret", "+441382434010", "council-staff")
"""Environmental Health's desk phone, a pjsua2 process (`ringtest.lab.desk_phone`; sipp
cannot hold the two dialogs an attended transfer needs). It registers, answers like a
staff agent, calls `CONSULTED_COLLEAGUE` (the consultation) and then transfers the
caller to them with REFER/Replaces."""
CONSULTED_COLLEAGUE = "staff1"
CONSULT_AFTER_MS = 1000
"""How long the desk phone talks to the caller (ms after answering) before consulting."""
CONSULT_MS = 1000
"""How long it talks to the colleague (ms after they answer) before transferring."""

STAFF = tuple(
    StaffAgent(f"staff{n}", f"lab-staff{n}-secret", sip_port=5070 + n, rtp_port=12000 + 10 * n)
    for n in range(1, 8)
)
RECEPTION_AGENT = StaffAgent(
    "staff8", "lab-staff8-secret", sip_port=5078, rtp_port=12090, scenario="transfer_uas.xml"
)
"""Reception's phone: answers like the others, then blind-transfers the caller (REFER)
to `TRANSFER_TARGET` and hangs up."""
TRANSFER_TARGET = "2002"
"""Where Reception transfers every call: Housing's ring group."""
TRANSFER_AFTER_MS = 1000
"""How long Reception talks (milliseconds after answering) before transferring."""
CITIZEN_PHONE = StaffAgent("citizenphone", "lab-citizenphone-secret", sip_port=5080, rtp_port=12080)
"""The lab citizens' home phone: staff call-backs to +4413820001XX ring it, and it
answers like a staff agent (after X-Lab-Answer ms, default 2000)."""
ANSWERING_AGENTS = (*STAFF, RECEPTION_AGENT, CITIZEN_PHONE)
"""Every lab phone answered by a sipp agent that `lab up` starts."""

DEPARTMENTS = (
    Department("Switchboard", "2000", "+441382434000", LineKind.IVR, ("staff6",)),
    Department("Council Tax", "2001", "+441382434001", LineKind.PERSON, ("staff1",)),
    Department("Housing", "2002", "+441382434002", LineKind.RING_GROUP, ("staff2", "staff3")),
    Department(
        "Benefits", "2003", "+441382434003", LineKind.QUEUE, ("staff4", "staff5"), "benefits"
    ),
    Department("Planning", "2004", "+441382434004", LineKind.VOICEMAIL, ("staff7",)),
    Department("Licensing", "2005", "+441382434005", LineKind.BUSY, ()),
    Department("Reception", "2006", "+441382434006", LineKind.TRANSFER, ("staff8",)),
    Department("Customer Services", "2007", "+441382434007", LineKind.LOCAL, ("staff1",)),
    Department("Out of order", "2008", "+441382434008", LineKind.FAILED, ()),
    Department("Permits", "2009", "+441382434009", LineKind.QUEUE, ("staff2", "staff3"), "permits"),
    Department(
        "Environmental Health",
        "2010",
        "+441382434010",
        LineKind.ATTENDED_TRANSFER,
        ("staff9", "staff1"),
    ),
    Department("Information", "2011", "+441382434011", LineKind.IVR, ()),
)
"""2011 answers at once with a long stock Asterisk menu prompt (no one to talk to)."""

NAMED_GREETINGS = {
    "staff1": "Good morning, Council Tax, Sam speaking.",
    "staff2": "Good morning, Housing, Priya speaking.",
    "staff3": "Good morning, Housing, Tom speaking.",
    "staff4": "Good morning, Benefits, Ewan speaking.",
    "staff5": "Good morning, Benefits, Grace speaking.",
    "staff6": "Good morning, Switchboard, Ruth speaking.",
    "staff7": "Good morning, Planning, Colin speaking.",
    "staff8": "Good morning, Reception, Mary speaking.",
    "citizenphone": "Hello, Alex speaking.",
}
"""What each sipp agent says for `LabGreeting.NAMED`, by username: staff name the first
department they answer for; the citizens' home phone names only its person."""

VOICEMAIL_RING_SECONDS = 12
"""Planning (2004) rings staff7 this long before sending the caller to voicemail."""


def department_lines() -> list[dict[str, str]]:
    """Every lab department as a ringtest ``[[lines]]`` table: a queue line by its
    queue's name, any other by its extension (the form `examples/lab.toml` uses)."""
    return [
        {"queue": dept.queue, "department": dept.name}
        if dept.queue
        else {"extension": dept.extension, "department": dept.name}
        for dept in DEPARTMENTS
    ]
