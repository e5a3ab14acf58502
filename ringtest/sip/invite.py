"""Who is calling whom, read from an inbound INVITE's text (pure: text in, numbers out).

dialled: the number the caller dialled. Carriers put a DID in the Request-URI or
    the To header; a PBX ringing a registered account puts the account's contact
    user there. The first of Request-URI user, To user that reads as a phone number
    wins (in E.164); else the To user as written.
caller: the calling number, most trusted first: P-Asserted-Identity, then
    Remote-Party-ID, then From. In E.164 when it reads as a number.
caller_name: the From display name ("" without one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ringtest.core.standards import normalise_number

_HEADER = re.compile(r"^([A-Za-z-]+)\s*:\s*(.*)$")
_COMPACT = {"f": "from", "t": "to"}
_URI_USER = re.compile(r"(?:sips?|tel):([^@;>?\s]+)", re.IGNORECASE)
_DISPLAY = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<')
_CALLER_HEADERS = ("p-asserted-identity", "remote-party-id", "from")


@dataclass(frozen=True, slots=True)
class InviteParties:
    """The dialled number, the caller and its display name of one INVITE."""

    dialled: str
    caller: str
    caller_name: str


def invite_parties(message: str, default_region: str) -> InviteParties:
    """Read `InviteParties` from a whole SIP INVITE (start line and headers)."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    request_user = _user_of(head[0]) if head else ""
    headers: dict[str, str] = {}
    for line in head[1:]:
        match = _HEADER.match(line)
        if match is not None:
            name = match.group(1).lower()
            headers.setdefault(_COMPACT.get(name, name), match.group(2).strip())
    to_user = _user_of(headers.get("to", ""))
    dialled = next(
        (number for user in (request_user, to_user) if (number := _number(user, default_region))),
        to_user,
    )
    caller = next(
        (_user_of(headers[name]) for name in _CALLER_HEADERS if _user_of(headers.get(name, ""))),
        "",
    )
    return InviteParties(
        dialled=dialled,
        caller=_number(caller, default_region) or caller,
        caller_name=_display_of(headers.get("from", "")),
    )


def _user_of(value: str) -> str:
    match = _URI_USER.search(value)
    return match.group(1) if match is not None else ""


def _display_of(value: str) -> str:
    match = _DISPLAY.match(value)
    if match is None:
        return ""
    return (match.group(1) or match.group(2) or "").replace('\\"', '"').strip()


def _number(user: str, default_region: str) -> str | None:
    """`user` in E.164 when it is a whole phone number, else None."""
    if not re.fullmatch(r"\+?[0-9]{5,}", user):
        return None
    try:
        return normalise_number(user, default_region)
    except ValueError:
        return None
