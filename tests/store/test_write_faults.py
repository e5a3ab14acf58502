"""A database that cannot be written: named in one line at the listener's start, and
written again, without a restart, once its permissions are fixed.

Permissions are real: file modes, and for root (which ignores modes) the file's
immutable attribute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtest.core.errors import StoreError
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store
from tests.store.builders import call_record

ROOT = Path(__file__).parents[2]


def make_read_only(path: Path) -> None:
    """Make `path` unwritable for this process: mode 0444, and for root, which ignores
    modes, the immutable attribute."""
    path.chmod(0o444)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    path.chmod(0o644)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    """A database file path, made writable again after the test so it can be removed."""
    path = tmp_path / "ringtest.db"
    yield path
    if path.exists():
        make_writable(path)


def test_store_written_again_once_a_read_only_file_is_made_writable(database):
    with Store.open(f"sqlite:///{database}") as store:
        store.save_calls([call_record(call_id="before")])
        store.close()
        make_read_only(database)
        with pytest.raises(StoreError) as refused:
            store.save_calls([call_record(call_id="while read-only")])
        make_writable(database)
        store.save_calls([call_record(call_id="after the fix")])
        saved = {record.call_id for record in store.calls()}
    assert "failed: the file is read-only: make the file and its directory writable" in str(
        refused.value
    )
    assert saved == {"before", "after the fix"}


def test_read_only_database_at_listen_start_is_one_line_naming_it(database):
    Store.open(f"sqlite:///{database}").close()
    make_read_only(database)
    env = {
        **os.environ,
        "RINGTEST_DB": f"sqlite:///{database}",
        "RINGTEST_AMI__JOURNAL_DIR": str(database.parent / "journal"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"ringtest: writing to database sqlite:///{database} failed: the file is read-only: "
        "make the file and its directory writable or set RINGTEST_DB to a writable path"
    )
    assert "Traceback" not in done.stderr
