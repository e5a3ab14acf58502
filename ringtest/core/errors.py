"""The one error hierarchy that every user-facing failure goes through.

A `RingtestError` is a problem the user can fix. Its text is one line that
names the thing that went wrong and the fix, e.g.
``AMI login to 127.0.0.1:5038 refused for user 'ringtest': check the secret in manager.conf``.
The CLI prints exactly that line (no traceback) and exits with `exit_code`.
"""


class RingtestError(Exception):
    """A failure the user can fix; `str(error)` is the whole one-line message."""

    exit_code = 1


class ConfigError(RingtestError):
    """The configuration file, environment or flags are wrong."""

    exit_code = 2


class LabError(RingtestError):
    """The lab PBX could not be built, started or reached."""


class PbxUnreachable(RingtestError):
    """Nothing answers at the configured AMI or SIP address."""


class AmiAuthFailed(RingtestError):
    """Asterisk refused the AMI login."""


class StoreError(RingtestError):
    """The database could not be opened, read or written."""


class SchemaVersionMismatch(StoreError):
    """The database was written by a different version of ringtest's schema."""


class SipError(RingtestError):
    """The SIP user agent could not register or place a call."""


class CampaignError(RingtestError):
    """A campaign file is wrong, or a campaign cannot be planned, found or run.

    `problems` holds every problem found, one line each (``FILE:LINE: what: fix``);
    `str(error)` is the first of them, plus how many more there are.
    """

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        more = len(self.problems) - 1
        super().__init__(self.problems[0] + (f" (and {more} more)" if more else ""))


class ReportError(RingtestError):
    """A report, public page or CDR import could not be read, written or sent."""


class PrivacyError(RingtestError):
    """A subject-rights request could not be carried out (a file could not be read or
    redacted)."""
