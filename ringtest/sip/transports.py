"""The SIP endpoint's transports: UDP and TCP opened at start, TLS per set of trusted CAs.

pjsua2 verifies a TLS server's certificate per transport (its `TlsConfig`), so each CA
file an account names gets a TLS transport of its own, opened the first time an account
needs it; accounts without one share the transport trusting the system's store. An
account is bound to its transport, and pjsip never lends a connection that one TLS
transport opened to an account of another, so every account's server is checked
against that account's CAs. The check is always on: a server whose certificate does
not verify (untrusted, expired, or naming another host) is never sent a request.
"""

from __future__ import annotations

import logging
import ssl

import pjsua2 as pj

from ringtest.core.errors import SipError
from ringtest.sip.accounts import TRANSPORT_KINDS, SipAccount

logger = logging.getLogger(__name__)

OPENED_AT_START = ("udp", "tcp")
"""Transport kinds opened with the endpoint; TLS ones open on demand (see module doc)."""


def system_ca_file() -> str | None:
    """The system's trust store file (``SSL_CERT_FILE`` when set), None when it has none."""
    return ssl.get_default_verify_paths().cafile


class Transports:
    """One endpoint's pjsua2 transports; created after ``libInit``, used on its thread only.

    Every transport binds `bind_address` on a free port. `ports` maps "udp" and "tcp" to
    the local port each listens on.
    """

    def __init__(self, library: pj.Endpoint, bind_address: str) -> None:
        self._library = library
        self._bind_address = bind_address
        self._ids: dict[tuple[str, str | None], int] = {}
        self.ports: dict[str, int] = {}
        for kind in OPENED_AT_START:
            transport_id = self._library.transportCreate(TRANSPORT_KINDS[kind], self._config())
            self._ids[(kind, None)] = transport_id
            local_name = self._library.transportGetInfo(transport_id).localName
            self.ports[kind] = int(local_name.rsplit(":", 1)[1])

    def transport_for(self, account: SipAccount) -> int:
        """The id of the transport `account` sends through; opens its TLS transport if new.

        Raises SipError, naming the account and the fix, when its CA file is unusable.
        """
        key = (account.transport, account.tls_ca_file)
        if key not in self._ids:
            self._ids[key] = self._open_tls(account)
        return self._ids[key]

    def _open_tls(self, account: SipAccount) -> int:
        ca_file = account.tls_ca_file or system_ca_file()
        if ca_file is None:
            raise SipError(
                f"SIP account '{account.name}' uses TLS but this system has no CA store: "
                "set sip.accounts.tls_ca_file to the PBX's CA"
            )
        try:
            ssl.create_default_context(cafile=ca_file)
        except OSError as error:  # ssl.SSLError is one too
            detail = error.reason if isinstance(error, ssl.SSLError) else error.strerror
            raise SipError(
                f"SIP account '{account.name}' cannot use the TLS CA file {ca_file} ({detail}): "
                "set sip.accounts.tls_ca_file to a PEM file of the PBX's CA"
            ) from None
        config = self._config()
        config.tlsConfig.CaListFile = ca_file
        config.tlsConfig.verifyServer = True
        try:
            transport_id = self._library.transportCreate(TRANSPORT_KINDS["tls"], config)
        except pj.Error as error:
            raise SipError(
                f"SIP account '{account.name}' could not open a TLS transport on "
                f"{self._bind_address}: {error.reason}: check the bind address"
            ) from None
        logger.info("SIP endpoint opened a TLS transport trusting %s", ca_file)
        return transport_id

    def _config(self) -> pj.TransportConfig:
        config = pj.TransportConfig()
        config.boundAddress = self._bind_address
        config.port = 0
        return config
