"""`ringtest db upgrade`, and the commands that meet a database of an older schema."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store, migrate
from tests.store.builders import campaign
from tests.store.schema_v1 import V1_CALLS, write_schema_version_1

ROOT = Path(__file__).parents[1]
HEAD = migrate.head_revision()


def ringtest(*args: str, database: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "RINGTEST_DB": f"sqlite:///{database}"},
    )


def test_a_read_command_on_an_old_database_is_one_line_naming_db_upgrade(tmp_path: Path):
    database = tmp_path / "ringtest.db"
    write_schema_version_1(f"sqlite:///{database}")

    done = ringtest("calls", database=database)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ringtest: database sqlite:///{database} is at schema revision 0001, older than "
        f"this ringtest's {HEAD}: run `ringtest db upgrade` (it copies an SQLite file to a "
        "backup first)"
    ]


def test_db_upgrade_says_what_it_did_then_that_there_is_nothing_to_do(tmp_path: Path):
    database = tmp_path / "ringtest.db"
    write_schema_version_1(f"sqlite:///{database}")

    first = ringtest("db", "upgrade", database=database)
    again = ringtest("db", "upgrade", database=database)

    [backup] = tmp_path.glob("ringtest.db.*.bak")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"database sqlite:///{database} upgraded from schema revision 0001 to {HEAD}; "
        f"the file as it was is kept at {backup}"
    ]
    assert again.stdout.splitlines() == [
        f"database sqlite:///{database} is at schema revision {HEAD} already"
    ]
    with Store.open(f"sqlite:///{database}") as store:
        assert store.calls() == V1_CALLS


def test_listen_upgrades_an_old_database_at_start_after_a_private_backup(tmp_path: Path):
    database = tmp_path / "ringtest.db"
    write_schema_version_1(f"sqlite:///{database}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{database}",
            "RINGTEST_AMI__PORT": str(closed_port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        upgraded, listening = daemon.stderr.readline(), daemon.stderr.readline()
        assert "retrying in 1 s" in daemon.stderr.readline()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    finally:
        daemon.kill()

    [backup] = tmp_path.glob("ringtest.db.*.bak")
    assert upgraded.rstrip().endswith(
        f"WARNING ringtest.store.migrate: upgraded database sqlite:///{database} from schema "
        f"revision 0001 to {HEAD}; the file as it was is kept at {backup}"
    )
    assert listening.startswith(f"listening to 127.0.0.1:{closed_port}")
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with Store.open(f"sqlite:///{database}") as store:
        assert store.schema_change is None
        assert store.campaigns() == [campaign(definition="")]
