"""SIP accounts: the plain settings (`SipAccount`) and the pjsua2 account behind each.

`SipAccount` is what configuration converts into; `PjsuaAccount` lives on the endpoint
thread and reports the first registration result to a future as a one-line error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal

import pjsua2 as pj

from ringtest.core.errors import SipError

logger = logging.getLogger(__name__)

TRANSPORT_KINDS: dict[str, int] = {
    "udp": pj.PJSIP_TRANSPORT_UDP,
    "tcp": pj.PJSIP_TRANSPORT_TCP,
    "tls": pj.PJSIP_TRANSPORT_TLS,
}
"""Our transport names -> pjsip transport types (see `ringtest.sip.transports`)."""

REGISTRATION_HINTS: dict[int, str] = {
    401: "check the user and password",
    403: "check the password",
    404: "check the user name",
    407: "check the user and password",
    408: "check the registrar address and that the PBX is running",
    503: "check the registrar address and that the PBX is running",
}
"""Final REGISTER status code -> the fix named in the error line."""

CERTIFICATE_NOT_TRUSTED = "(PJSIP_TLS_ECERTVERIF)"
"""What ends the reason of the 503 pjsip makes up when a TLS server's certificate fails
verification (no trusted CA signed it, it expired, or it names another host)."""


@dataclass(frozen=True, slots=True)
class SipAccount:
    """One SIP identity the test caller can place calls from.

    name: our handle for the account (what campaigns refer to).
    user / password: digest credentials, also the registration user.
    domain: the SIP domain in the From URI (``sip:<caller_id>@<domain>``).
    registrar: registrar URI such as ``sip:127.0.0.1:5060``; None: do not register.
    transport: "udp", "tcp" or "tls".
    tls_ca_file: PEM file of the CAs a TLS server's certificate must chain to (for a
        self-signed server, its certificate); None: the system's trust store. TLS only.
    caller_id: the number presented: the From display name and, on each INVITE,
        ``P-Preferred-Identity`` (RFC 3325). The From user stays `user`, the identity
        registrars and PBXs authenticate. None: present `user` alone.
    outbound_proxy: SIP URI every request is routed through; None: none.
    """

    name: str
    user: str
    password: str = ""
    domain: str = "127.0.0.1"
    registrar: str | None = None
    transport: Literal["udp", "tcp", "tls"] = "udp"
    caller_id: str | None = None
    outbound_proxy: str | None = None
    tls_ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORT_KINDS:
            raise SipError(
                f"SIP account '{self.name}' has transport '{self.transport}': use udp, tcp or tls"
            )
        if self.tls_ca_file is not None and self.transport != "tls":
            raise SipError(
                f"SIP account '{self.name}' has a TLS CA file but transport "
                f"'{self.transport}': use transport tls or drop the CA file"
            )

    @property
    def id_uri(self) -> str:
        """The From (and registration) URI: ``"<caller_id>" <sip:<user>@<domain>>``."""
        address = f"sip:{self.user}@{self.domain}"
        return f'"{self.caller_id}" <{address}>' if self.caller_id else address

    @property
    def preferred_identity(self) -> str | None:
        """``P-Preferred-Identity`` value presenting `caller_id`, None without one."""
        if self.caller_id is None:
            return None
        return f"<sip:{self.caller_id}@{self.domain}>"

    @property
    def registrar_uri(self) -> str | None:
        """The registrar URI with the account's transport made explicit, None if none."""
        if self.registrar is None:
            return None
        return with_transport(self.registrar, self.transport)


def with_transport(uri: str, transport: str) -> str:
    """`uri` with ``;transport=tcp`` (or ``tls``) appended when needed (UDP is the default)."""
    if transport == "udp" or ";transport=" in uri.lower():
        return uri
    return f"{uri};transport={transport}"


class PjsuaAccount(pj.Account):
    """A pjsua2 account that reports its first registration result to a future.

    on_incoming: what takes an inbound call (see `ringtest.sip.inbound`); None: the
    account does not answer, and pjsua2 refuses a call no `pj.Call` took.
    siblings: the endpoint's accounts at the moment a call comes in (see
    `answering_account`).
    """

    def __init__(
        self,
        settings: SipAccount,
        registered: Future[None],
        siblings: Callable[[], Iterable[PjsuaAccount]],
    ) -> None:
        super().__init__()
        self.settings = settings
        self.on_incoming: Callable[[PjsuaAccount, pj.OnIncomingCallParam], None] | None = None
        self._registered = registered
        self._siblings = siblings

    def answering_account(self) -> PjsuaAccount | None:
        """The account that takes a call pjsua2 gave to this one, None if none answers.

        pjsua2 gives an inbound INVITE to the first account whose user and domain match
        its request URI, which need not be the account answering: a campaign's account
        and a second account of the same SIP user (one that only places calls) look
        alike. So the call goes to this account if it answers, else to another account
        of the same user that does.
        """
        same_user = (
            account
            for account in self._siblings()
            if account is not self and account.settings.user == self.settings.user
        )
        return next(
            (account for account in (self, *same_user) if account.on_incoming is not None),
            None,
        )

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        answering = self.answering_account()
        if answering is None:
            logger.info("SIP account %r is not answering calls: refused one", self.settings.name)
            return
        answering.on_incoming(answering, prm)

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        if self._registered.done():
            logger.info(
                "SIP account %r registration: %s %s", self.settings.name, prm.code, prm.reason
            )
            return
        if prm.code // 100 == 2:
            self._registered.set_result(None)
            return
        self._registered.set_exception(
            SipError(
                f"SIP registration of '{self.settings.name}' at {self.settings.registrar_uri} "
                f"failed: {self._failure(prm.code, prm.reason)}"
            )
        )

    def _failure(self, code: int, reason: str) -> str:
        """What went wrong and the fix, for a REGISTER answered with `code` `reason`."""
        if reason.endswith(CERTIFICATE_NOT_TRUSTED):
            trusted = self.settings.tls_ca_file or "the system's CAs"
            return (
                f"TLS certificate not trusted by {trusted}: set sip.accounts.tls_ca_file "
                "to the PBX's CA (its certificate, when self-signed)"
            )
        hint = REGISTRATION_HINTS.get(code, "check the registrar settings")
        return f"{code} {reason}: {hint}"
