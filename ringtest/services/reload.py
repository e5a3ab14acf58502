"""SIGHUP: the lines, standards and working calendar read again, with no restart.

`ringtest run`, `ringtest listen` and `ringtest campaign run` reload on SIGHUP
(systemd: ``systemctl reload ringtest``). The settings file and the
environment are read again exactly as at start (`SettingsReload`):

* Not valid: each problem is one ERROR line, and everything runs on with the
  settings it had.
* Valid: each running service that can (`DaemonHost.reload`) takes the new
  `RELOADED_SECTIONS`. The listener swaps its lines and standards between two
  events on its own loop, so the AMI link stays up and a call in flight keeps
  the line it was matched to; the live view counts rings and deadlines by the
  new standards. Any other section that changed is one WARNING naming it: it
  takes effect at the next start.

Campaign files need no signal: the campaign daemon re-reads a file whenever it
changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ringtest.config import Settings
from ringtest.core.errors import ConfigError

log = logging.getLogger(__name__)

RELOADED_SECTIONS = ("lines", "standards", "calendar")
"""The settings a running daemon takes on SIGHUP; any other change waits for a restart."""


class SettingsReload:
    """Reads the settings again with `load` and says what a reload will and will not apply.

    current: the settings in force; replaced by each reload that succeeds.
    """

    def __init__(self, current: Settings, load: Callable[[], Settings]) -> None:
        self.current = current
        self.load = load

    def __call__(self) -> Settings | None:
        """The new settings, or None (logged) when they are not valid."""
        try:
            loaded = self.load()
        except ConfigError as error:
            for problem in str(error).splitlines():
                log.error("settings not reloaded: %s", problem)
            log.error("settings not reloaded: ringtest runs on with the settings it had")
            return None
        before, after = self.current.model_dump(), loaded.model_dump()
        for section in sorted(after):
            if section not in RELOADED_SECTIONS and before.get(section) != after[section]:
                log.warning(
                    "settings reloaded, but [%s] changed: it takes effect when ringtest is "
                    "restarted (SIGHUP applies %s)",
                    section,
                    ", ".join(f"[{name}]" for name in RELOADED_SECTIONS),
                )
        self.current = loaded
        log.warning(
            "settings reloaded: %d lines, answer within %d rings",
            len(loaded.lines),
            loaded.standards.answer_within_rings,
        )
        return loaded
