"""Subject rights: what ringtest holds about one number (access) and erasing it (forget).

A number is looked for as itself (E.164, as the store keeps numbers) and as its
pseudonym under the configured key (if a key exists yet), so rows pseudonymised
by retention are found too. In the database that is calls, callback obligations,
ring tests and callback tests (`ringtest.store.privacy`); on disk, the evidence
WAVs of those ring tests, and the AMI recordings and journals matching
`privacy.recording_globs` whose bytes contain the number (international digits,
``441632960001``, which also match ``+44...`` and ``0044...``, or national,
``01632960001``).

Erasure deletes the rows and the WAVs. A recording holds every caller of its
day, so it is not deleted: each occurrence of the number is overwritten in place
with as many ``X`` bytes, which keeps every chunk's length (the file still
replays) and is safe while the listener appends to it. Files elsewhere (a
``listen --record`` outside the globs) are not searched.
"""

from __future__ import annotations

import dataclasses
import glob
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import phonenumbers

from ringtest.config import Settings
from ringtest.core.errors import PrivacyError
from ringtest.services.pseudonyms import pseudonym, read_key
from ringtest.store import Store
from ringtest.store import privacy as stored

SCAN_BLOCK_BYTES = 1024 * 1024
REDACTED_BYTE = b"X"


@dataclass(frozen=True)
class Subject:
    """One data subject's number (E.164) and its pseudonym (None before any key exists)."""

    number: str
    pseudonym: str | None

    @classmethod
    def of(cls, settings: Settings, number: str) -> Subject:
        """`number` (E.164) and its pseudonym under the configured key."""
        key = read_key(settings.privacy.key_path())
        return cls(number, None if key is None else pseudonym(key, number))

    @property
    def identities(self) -> list[str]:
        """What the store may hold in place of the number."""
        return [self.number] + ([self.pseudonym] if self.pseudonym else [])

    def byte_patterns(self) -> list[bytes]:
        """The digit strings the number is written as in AMI bytes, longest first."""
        parsed = phonenumbers.parse(self.number)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms = {self.number.lstrip("+"), "".join(c for c in national if c.isdigit())}
        return sorted((form.encode("ascii") for form in forms), key=len, reverse=True)


@dataclass(frozen=True)
class Erasure:
    """What `forget` removed."""

    rows: stored.ErasedRows
    evidence_deleted: list[Path]
    recordings_redacted: list[Path]

    def lines(self, subject: Subject) -> list[str]:
        """What was removed, for the person who asked; numbers of files, never of rows."""
        rows = self.rows
        also = f" and its pseudonym {subject.pseudonym}" if subject.pseudonym else ""
        return [
            f"forgot {subject.number}{also}:",
            f"deleted {rows.calls} calls, {rows.callback_obligations} callback obligations, "
            f"{rows.ring_tests} ring tests and {rows.callback_tests} callback tests",
            f"deleted {len(self.evidence_deleted)} evidence recordings",
            *(f"  {path}" for path in self.evidence_deleted),
            f"overwrote the number with X in {len(self.recordings_redacted)} AMI recordings "
            "or journals (kept: they hold other callers)",
            *(f"  {path}" for path in self.recordings_redacted),
        ]


def subject_access(settings: Settings, store: Store, subject: Subject) -> dict[str, Any]:
    """Everything held about `subject`, as plain JSON values."""
    held = stored.records_holding(store, subject.identities)
    return {
        "number": subject.number,
        "pseudonym": subject.pseudonym,
        **{
            table.name: [_plain(dataclasses.asdict(record)) for record in getattr(held, table.name)]
            for table in dataclasses.fields(held)
        },
        "evidence_recordings": [str(path) for path in _evidence_files(held.ring_tests)],
        "ami_recordings": [
            str(path) for path in _recordings(settings) if _scan(path, subject.byte_patterns())
        ],
    }


def subject_access_json(settings: Settings, store: Store, subject: Subject) -> str:
    """`subject_access` as indented JSON text."""
    return json.dumps(subject_access(settings, store, subject), indent=2)


def forget(settings: Settings, store: Store, subject: Subject) -> Erasure:
    """Erase `subject`: rows, their ring tests' evidence WAVs, and the number in recordings."""
    held = stored.records_holding(store, subject.identities)
    evidence = _evidence_files(held.ring_tests)
    for path in evidence:
        path.unlink(missing_ok=True)
    rows = stored.erase_records_holding(store, subject.identities)
    patterns = subject.byte_patterns()
    redacted = [path for path in _recordings(settings) if _scan(path, patterns, redact=True)]
    return Erasure(rows, evidence, redacted)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with instants as ISO 8601 text (enums are strings already)."""
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in row.items()
    }


def _evidence_files(ring_tests: Iterable[Any]) -> list[Path]:
    paths = (Path(test.evidence_path) for test in ring_tests if test.evidence_path)
    return [path for path in paths if path.is_file()]


def _recordings(settings: Settings) -> list[Path]:
    """The AMI recordings and journals `privacy.recording_globs` names, sorted."""
    names = {
        name
        for pattern in settings.privacy.recording_patterns()
        for name in glob.glob(pattern, recursive=True)
    }
    return sorted(Path(name) for name in names if Path(name).is_file())


def _scan(path: Path, patterns: list[bytes], redact: bool = False) -> int:
    """How many times `patterns` occur in the file at `path` (at least 1 when any does);
    with `redact`, each occurrence is overwritten in place with as many X bytes."""
    try:
        with path.open("r+b" if redact else "rb") as file:
            return _scan_file(file, patterns, redact)
    except OSError as error:
        action = "redact" if redact else "search"
        raise PrivacyError(
            f"cannot {action} the AMI recording {path} ({error.strerror}): make it readable "
            "and writable by ringtest's user, or move it out of privacy.recording_globs"
        ) from None


def _scan_file(file: BinaryIO, patterns: list[bytes], redact: bool) -> int:
    """Scan block by block, keeping the last (longest pattern - 1) bytes of each block so
    that an occurrence across two blocks is found. Redacted occurrences no longer match,
    so none is counted twice; without `redact` the first occurrence ends the scan."""
    overlap = max(len(pattern) for pattern in patterns) - 1
    data = bytearray()
    data_offset = 0  # where data[0] is in the file
    found = 0
    while block := file.read(SCAN_BLOCK_BYTES):
        data += block
        for pattern in patterns:
            start = data.find(pattern)
            while start != -1:
                found += 1
                if not redact:
                    return found
                data[start : start + len(pattern)] = REDACTED_BYTE * len(pattern)
                file.seek(data_offset + start)
                file.write(REDACTED_BYTE * len(pattern))
                start = data.find(pattern, start + len(pattern))
        file.seek(data_offset + len(data))
        keep = min(overlap, len(data))
        data_offset += len(data) - keep
        del data[: len(data) - keep]
    return found
