"""pjsip's own output, kept off the terminal: its log goes to Python logging.

pjsip writes log lines through a `pj.LogWriter` we install (`PjsipLogWriter`), to
the ``ringtest.sip.pjsip`` logger; its start-up banner, printed before any writer
exists, is swallowed by `process_stdout_silenced`.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
        pjsip_logger.log(level, "%s", entry.msg.rstrip())


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
