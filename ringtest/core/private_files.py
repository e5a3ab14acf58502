"""Files that hold caller numbers are readable by their owner alone.

The data directory is `PRIVATE_DIRECTORY_MODE` (0700); the database, evidence
WAVs, AMI recordings, journals and report outputs are `PRIVATE_FILE_MODE`
(0600). Every CLI command starts by setting `PRIVATE_UMASK`, so whatever it
creates (SQLite's WAL files, pjsua2's WAVs, pandas' CSVs) is private without
each writer asking; the writers that library code may call outside the CLI set
the mode themselves as well.

`share_with_group` widens that to the owner's group (`[privacy] group_access`,
the ``ringtest`` group of a systemd install): directories 0770 and files 0660,
since SQLite's readers write its lock files. The pseudonym key stays 0600
(`KEY_FILE_MODE`): whoever holds it can tell a pseudonym's number by trying
numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import platformdirs

PRIVATE_UMASK = 0o077
PRIVATE_DIRECTORY_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
GROUP_UMASK = 0o007
GROUP_DIRECTORY_MODE = 0o770
GROUP_FILE_MODE = 0o660
KEY_FILE_MODE = 0o600

_modes = {"directory": PRIVATE_DIRECTORY_MODE, "file": PRIVATE_FILE_MODE}
"""The modes in force: private, or shared with the group after `share_with_group`."""


def restrict_umask() -> int:
    """Make files and directories this process creates private; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def share_with_group(shared: bool) -> None:
    """Let the owner's group read and write what this process creates from now on
    (`shared`), or keep it the owner's alone."""
    os.umask(GROUP_UMASK if shared else PRIVATE_UMASK)
    _modes["directory"] = GROUP_DIRECTORY_MODE if shared else PRIVATE_DIRECTORY_MODE
    _modes["file"] = GROUP_FILE_MODE if shared else PRIVATE_FILE_MODE


def file_mode() -> int:
    """The mode of a new file holding personal data (0600, or 0660 shared with the group)."""
    return _modes["file"]


def data_directory() -> Path:
    """ringtest's directory in the platform's user data directory (not created here)."""
    return Path(platformdirs.user_data_dir("ringtest"))


def make_private_directory(directory: Path) -> None:
    """Create `directory` (and its parents); a new one is 0700, and so is the data directory.

    A directory that already exists elsewhere (a report's --out) keeps its mode:
    it may be shared on purpose, and the files written into it are private anyway.
    """
    directory.mkdir(mode=_modes["directory"], parents=True, exist_ok=True)
    if directory.resolve() == data_directory().resolve():
        directory.chmod(_modes["directory"])


def create_private_file(path: Path) -> None:
    """Create `path` empty with `file_mode()` unless it exists (an existing file is left as is)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode()))
    except FileExistsError:
        return


def open_private_for_append(path: Path) -> BinaryIO:
    """`path` opened for appending bytes; created with `file_mode()` when new."""
    return open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, file_mode()), "ab")


def make_private(*paths: Path) -> None:
    """Set each of `paths` to `file_mode()`."""
    for path in paths:
        path.chmod(file_mode())
