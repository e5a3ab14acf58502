"""pjsip's own output, kept off the terminal: its log goes to Python logging.

pjsip writes log lines through a `pj.LogWriter` we install (`PjsipLogWriter`), to
the ``ringtest.sip.pjsip`` logger; its start-up banner, printed before any writer
exists, is swallowed by `process_stdout_silenced`.

At DEBUG pjsip also logs every SIP message it sends and receives (``-vv``). Those
lines pass through `redact_sip_trace` first: an ``Authorization`` or
``Proxy-Authorization`` value (a Digest response is enough to guess the password
offline) and the phone numbers in SIP and tel URIs and in quoted display names
(callers are personal data) never reach a log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator

import pjsua2 as pj

pjsip_logger = logging.getLogger("ringtest.sip.pjsip")

PJSIP_LOG_LEVELS: dict[int, int] = {
    0: logging.CRITICAL,
    1: logging.ERROR,
    2: logging.WARNING,
}
"""pjsip log level -> Python logging level; pjsip levels 3 and up (chatty) are DEBUG."""

REDACTED = "<redacted>"
NUMBER_REDACTED = "<number>"

_CREDENTIAL_HEADER = re.compile(
    r"^(?P<name>(?:proxy-)?authorization)[ \t]*:[^\r\n]*", re.IGNORECASE | re.MULTILINE
)
_PHONE_NUMBER = r"\+?[0-9][0-9().\- ]*[0-9]"
"""A run of digits with visual separators, at least two digits long."""
_NUMBER_IN_URI = re.compile(
    rf"(?P<scheme>\bsips?:){_PHONE_NUMBER}(?=@)"
    rf"|(?P<tel>\btel:){_PHONE_NUMBER}(?=[;>?\s,]|$)"
)
"""The user part of a SIP URI (before its @: a bare host stays) or a tel: number."""
_NUMBER_AS_NAME = re.compile(rf'"\s*{_PHONE_NUMBER}\s*"|(?<=:)[ \t]*{_PHONE_NUMBER}(?=[ \t]*<)')
"""A display name that is a number: quoted, or bare right after a header's colon."""


class PjsipLogWriter(pj.LogWriter):
    """Hands pjsip's log lines to Python logging (keep it alive while pjsua2 runs)."""

    def install(self, log_config: pj.LogConfig) -> None:
        """Make `log_config` write through us: warnings and worse, or everything
        (SIP messages included) when ``ringtest.sip.pjsip`` logs at DEBUG."""
        debug = pjsip_logger.isEnabledFor(logging.DEBUG)
        log_config.writer = self
        log_config.decor = 0
        log_config.level = 5 if debug else 2
        log_config.consoleLevel = log_config.level  # what reaches the writer
        log_config.msgLogging = debug

    def write(self, entry: pj.LogEntry) -> None:
        level = PJSIP_LOG_LEVELS.get(entry.level, logging.DEBUG)
        pjsip_logger.log(level, "%s", redact_sip_trace(entry.msg.rstrip()))


def redact_sip_trace(text: str) -> str:
    """`text` (pjsip log output, SIP messages included) without credentials or numbers.

    Authorization and Proxy-Authorization values become `REDACTED`; the user part of
    a sip:, sips: or tel: URI and a display name that are phone numbers become
    `NUMBER_REDACTED`. Hosts, ports, tags and names that are not numbers are kept.
    """
    text = _CREDENTIAL_HEADER.sub(lambda match: f"{match['name']}: {REDACTED}", text)
    text = _NUMBER_IN_URI.sub(
        lambda match: (match["scheme"] or match["tel"]) + NUMBER_REDACTED, text
    )
    return _NUMBER_AS_NAME.sub(
        lambda match: f'"{NUMBER_REDACTED}"' if match[0].startswith('"') else f" {NUMBER_REDACTED}",
        text,
    )


@contextlib.contextmanager
def process_stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null for a moment.

    pjlib prints its start-up banner straight to stdout inside `libCreate`,
    before any log writer can be installed; this keeps the CLI's output clean.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
