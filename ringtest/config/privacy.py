"""`[privacy]`: how long ringtest keeps caller numbers, recordings and call rows (UK GDPR).

Why the defaults: a missed caller's number is needed until the callback is made
(a working day or so) and then for complaints about it; 90 days covers a
quarter's review. Call rows are kept 13 months, a year of weekly comparisons
plus the month before the first of them, after which they are deleted. Evidence
WAVs and AMI recordings are for checking a measurement soon after it was made.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ringtest.config.fields import Section
from ringtest.core.private_files import data_directory

KEY_FILE_NAME = "pseudonym.key"


class PrivacySettings(Section):
    """`[privacy]`: retention and pseudonymisation of the data ringtest holds.

    pseudonymise_after_days: days after a call started (and after its caller's
        callback obligation closed) when its caller number becomes a keyed pseudonym.
    key_file: the HMAC key's file, created 0600 at first use; None: `pseudonym.key`
        in the data directory. Every host writing one database must share it.
    evidence_retention_days: days a ring test's evidence WAV is kept.
    recording_retention_days: days an AMI recording or journal file is kept (by its
        modification time).
    recording_globs: the files that are AMI recordings or journals; a relative
        pattern is under the data directory.
    call_retention_months: calendar months call rows (and their callback
        obligations) are kept, by when the call started.
    group_access: let the data directory owner's group (the ``ringtest`` group of
        a systemd install) use the database and files: directories 0770, files
        0660 instead of 0700 and 0600; the pseudonym key stays 0600.
    """

    pseudonymise_after_days: int = Field(default=90, ge=1)
    key_file: Path | None = None
    evidence_retention_days: int = Field(default=90, ge=1)
    recording_retention_days: int = Field(default=30, ge=1)
    recording_globs: list[str] = Field(default_factory=lambda: ["recordings/*", "journal/*"])
    call_retention_months: int = Field(default=13, ge=1)
    group_access: bool = False

    def key_path(self) -> Path:
        """The HMAC key's file: `key_file`, else `pseudonym.key` in the data directory."""
        return self.key_file if self.key_file is not None else data_directory() / KEY_FILE_NAME

    def recording_patterns(self) -> list[str]:
        """`recording_globs` as absolute patterns (relative ones under the data directory)."""
        directory = data_directory()
        return [str(directory / Path(pattern).expanduser()) for pattern in self.recording_globs]
