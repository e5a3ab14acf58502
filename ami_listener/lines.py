"""Which monitored line (and department) a call is for.

A line is configured by exactly one of: the E.164 number the public dials, the
dialplan extension it lands on, or the Asterisk queue that answers it. The
tracker asks `LineDirectory` with what it sees on the caller's channel: each
extension the dialplan visits, and each queue the caller joins. The CDR import
asks it with each CDR row's destination and queue. Nothing here reads the
settings: `ringtest.config.adapters.line_directory_of` builds the directory
from the configured `[[lines]]`.

Spellings of a number. Trunks deliver a DID in whichever form their carrier
uses, and FreePBX's inbound routes match it as delivered: for a UK number
``+441382434001``, ``441382434001``, ``00441382434001`` or the national
``01382434001``. A dialled extension that is no configured extension is
therefore read as a number of `default_region` (`normalise_number`, the one
normalisation the config's numbers went through too) and looked up in E.164, so
every spelling finds the line.

Line contexts and devices. A line may also name dialplan contexts that only its
calls run in (its IVR's, e.g. ``council-switchboard``) and devices that only its
calls ring (``PJSIP/staff8``). The CDR import reads them: a CDR row keeps only
the last context and extension its caller reached (``operator`` in the IVR's
context, a blind transfer's target), never the line's own extension, but its
``Dial`` data still names the device it rang.

Inbound calls. A call no line matches may be a member of the public dialling a
council number nobody configured (a missing line), or staff calling a citizen
(whose number is personal data). Only the first kind is reported as unmatched:
a call whose first channel began in one of `inbound_contexts`, the dialplan
contexts where calls from the public arrive (FreePBX: ``from-pstn``,
``from-trunk``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from ringtest.core.standards import normalise_number

FREEPBX_INBOUND_CONTEXTS = (
    "from-trunk",
    "from-pstn",
    "from-pstn-toheader",
    "from-pstn-e164-us",
    "from-did-direct",
)
"""The contexts FreePBX starts a trunk's inbound calls in (the default `inbound_contexts`)."""


@lru_cache(maxsize=4096)
def _e164_or_none(dialled: str, region: str) -> str | None:
    """`dialled` as an E.164 number of `region`, None when it is no whole number (cached:
    the tracker asks once per dialplan step of a call no line matched yet)."""
    try:
        return normalise_number(dialled, region)
    except ValueError:
        return None


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
    """Looks lines up by dialled number/extension (any spelling of a number) or by queue.

    default_region: ISO 3166 code a dialled number without a country code is read in.
    inbound_contexts: dialplan contexts where calls from the public arrive.
    line_contexts: dialplan contexts only one line's calls run in -> that line.
    line_devices: devices (``PJSIP/staff8``) only one line's calls ring -> that line.
    """

    def __init__(
        self,
        lines: Iterable[MonitoredLine] = (),
        default_region: str = "GB",
        inbound_contexts: Iterable[str] = FREEPBX_INBOUND_CONTEXTS,
        line_contexts: Mapping[str, MonitoredLine] | None = None,
        line_devices: Mapping[str, MonitoredLine] | None = None,
    ) -> None:
        self.default_region = default_region
        self.inbound_contexts = frozenset(inbound_contexts)
        self.line_contexts = dict(line_contexts or {})
        self.line_devices = dict(line_devices or {})
        self._by_dialled: dict[str, MonitoredLine] = {}
        self._by_queue: dict[str, MonitoredLine] = {}
        for line in lines:
            (self._by_queue if line.is_queue else self._by_dialled)[line.line] = line

    def for_dialled(self, exten: str) -> MonitoredLine | None:
        """The line whose extension is `exten`, or whose number `exten` spells, if monitored."""
        line = self._by_dialled.get(exten)
        if line is not None or not exten:
            return line
        e164 = _e164_or_none(exten, self.default_region)
        return self._by_dialled.get(e164) if e164 is not None else None

    def for_queue(self, queue: str) -> MonitoredLine | None:
        """The line answered by Asterisk queue `queue`, if monitored."""
        return self._by_queue.get(queue)

    def for_context(self, context: str) -> MonitoredLine | None:
        """The line whose calls alone run in dialplan `context`, if one names it."""
        return self.line_contexts.get(context)

    def for_device(self, device: str) -> MonitoredLine | None:
        """The line whose calls alone ring `device` (``PJSIP/staff8``), if one names it."""
        return self.line_devices.get(device)

    def is_inbound(self, context: str) -> bool:
        """Whether a channel that began in dialplan `context` is a call from the public."""
        return context in self.inbound_contexts
