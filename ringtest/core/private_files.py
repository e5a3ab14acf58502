"""Files that hold caller numbers are readable by their owner alone.

The data directory is `PRIVATE_DIRECTORY_MODE` (0700); the database, evidence
WAVs, AMI recordings, journals and report outputs are `PRIVATE_FILE_MODE`
(0600). Every CLI command starts by setting `PRIVATE_UMASK`, so whatever it
creates (SQLite's WAL files, pjsua2's WAVs, pandas' CSVs) is private without
each writer asking; the writers that library code may call outside the CLI set
the mode themselves as well.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import platformdirs

PRIVATE_UMASK = 0o077
PRIVATE_DIRECTORY_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def restrict_umask() -> int:
    """Make files and directories this process creates private; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def data_directory() -> Path:
    """ringtest's directory in the platform's user data directory (not created here)."""
    return Path(platformdirs.user_data_dir("ringtest"))


def make_private_directory(directory: Path) -> None:
    """Create `directory` (and its parents); a new one is 0700, and so is the data directory.

    A directory that already exists elsewhere (a report's --out) keeps its mode:
    it may be shared on purpose, and the files written into it are private anyway.
    """
    directory.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    if directory.resolve() == data_directory().resolve():
        directory.chmod(PRIVATE_DIRECTORY_MODE)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (an existing file is left as is)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        return


def open_private_for_append(path: Path) -> BinaryIO:
    """`path` opened for appending bytes; created with mode 0600 when new."""
    return open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE), "ab")


def make_private(*paths: Path) -> None:
    """Set each of `paths` to mode 0600."""
    for path in paths:
        path.chmod(PRIVATE_FILE_MODE)
