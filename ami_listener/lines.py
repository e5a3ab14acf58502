"""Which monitored line (and department) a call is for.

A line is configured by exactly one of: the E.164 number the public dials, the
dialplan extension it lands on, or the Asterisk queue that answers it. The
tracker asks `LineDirectory` with what it sees on the caller's channel: each
extension the dialplan visits, and each queue the caller joins. The CDR import
asks it with each CDR row's destination and queue. Nothing here reads the
settings: `ringtest.config.adapters.line_directory_of` builds the directory
from the configured `[[lines]]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MonitoredLine:
    """A line under audit.

    line: its label in records: the E.164 number, the extension or the queue name.
    department: who answers it, as reported.
    name: what people call it, if configured.
    is_queue: `line` is an Asterisk queue (found by the queue a caller joins), not a
        number or extension (found by what the caller dialled).
    """

    line: str
    department: str
    name: str | None = None
    is_queue: bool = False


class LineDirectory:
    """Looks lines up by dialled number/extension or by queue name."""

    def __init__(self, lines: Iterable[MonitoredLine] = ()) -> None:
        self._by_dialled: dict[str, MonitoredLine] = {}
        self._by_queue: dict[str, MonitoredLine] = {}
        for line in lines:
            (self._by_queue if line.is_queue else self._by_dialled)[line.line] = line

    def for_dialled(self, exten: str) -> MonitoredLine | None:
        """The line whose number or extension is `exten`, if monitored."""
        return self._by_dialled.get(exten)

    def for_queue(self, queue: str) -> MonitoredLine | None:
        """The line answered by Asterisk queue `queue`, if monitored."""
        return self._by_queue.get(queue)
