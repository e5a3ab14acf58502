"""Which monitored line (and department) a call is for.

A line is configured by exactly one of: the E.164 number the public dials, the
dialplan extension it lands on, or the Asterisk queue that answers it. The
tracker asks `LineDirectory` with what it sees on the caller's channel: each
extension the dialplan visits, and each queue the caller joins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ringtest.config.models import Line


@dataclass(frozen=True, slots=True)
class MonitoredLine:
    """A line under audit. `line` is its label in records: the number, extension or queue."""

    line: str
    department: str
    name: str | None = None


class LineDirectory:
    """Looks lines up by dialled number/extension or by queue name."""

    def __init__(
        self,
        by_dialled: dict[str, MonitoredLine] | None = None,
        by_queue: dict[str, MonitoredLine] | None = None,
    ) -> None:
        self._by_dialled = dict(by_dialled or {})
        self._by_queue = dict(by_queue or {})

    @classmethod
    def from_settings(cls, lines: Iterable[Line]) -> LineDirectory:
        """Build from the config's `[[lines]]` entries."""
        by_dialled: dict[str, MonitoredLine] = {}
        by_queue: dict[str, MonitoredLine] = {}
        for entry in lines:
            label = entry.number or entry.extension or entry.queue or ""
            line = MonitoredLine(label, entry.department, entry.name)
            (by_queue if entry.queue else by_dialled)[label] = line
        return cls(by_dialled, by_queue)

    def for_dialled(self, exten: str) -> MonitoredLine | None:
        """The line whose number or extension is `exten`, if monitored."""
        return self._by_dialled.get(exten)

    def for_queue(self, queue: str) -> MonitoredLine | None:
        """The line answered by Asterisk queue `queue`, if monitored."""
        return self._by_queue.get(queue)
