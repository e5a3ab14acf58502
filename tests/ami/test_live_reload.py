"""SIGHUP to `ringtest listen` on the lab PBX: a line added to the settings file is measured
from the next call, and the AMI link stays up (the listener logs in once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from ringtest.lab.calls import lab_call
from ringtest.store import Store
from tests.ami.test_listener_faults import stopped
from tests.conftest import wait_until
from tests.test_cli import LAB_CONFIG, ROOT, wait_for_listener_login

pytestmark = pytest.mark.lab

COUNCIL_TAX_LINE = '[[lines]]\nextension = "2001"\ndepartment = "Council Tax"\n\n'
BEFORE_RELOAD, AFTER_RELOAD = "+441382000163", "+441382000164"


def test_a_line_added_and_reloaded_with_sighup_is_measured_on_the_same_link(lab, tmp_path):
    settings_file = tmp_path / "ringtest.toml"
    full = LAB_CONFIG.read_text()
    assert COUNCIL_TAX_LINE in full
    settings_file.write_text(full.replace(COUNCIL_TAX_LINE, ""))
    log_file = tmp_path / "listen.log"
    database = f"sqlite:///{tmp_path}/ringtest.db"
    with log_file.open("w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ringtest", "-v", "--config", str(settings_file), "listen"],
            cwd=ROOT,
            env={**os.environ, "RINGTEST_DB": database},
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
    try:
        wait_for_listener_login()
        lab_call("2001", answer="300", caller=BEFORE_RELOAD)
        wait_until(lambda: unmatched_seen(database), 20.0, "the unmonitored call was not seen")

        settings_file.write_text(full)
        daemon.send_signal(signal.SIGHUP)
        wait_until(lambda: "settings reloaded" in log_file.read_text(), 20.0, "no reload")
        lab_call("2001", answer="300", caller=AFTER_RELOAD)
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == AFTER_RELOAD for c in store.calls()), 20.0)
            calls = {call.caller: call for call in store.calls()}
        code, _, _ = stopped(daemon)
    finally:
        daemon.kill()
    log_text = log_file.read_text()
    assert BEFORE_RELOAD not in calls
    assert (calls[AFTER_RELOAD].department, calls[AFTER_RELOAD].line) == ("Council Tax", "2001")
    logins = log_text.count("ami_listener.listener: listening to 127.0.0.1:5038")
    assert logins == 1, "the AMI link was dropped"
    assert "link to 127.0.0.1:5038 lost" not in log_text
    assert "settings reloaded: 12 lines, answer within 7 rings" in log_text
    assert code == 0, log_text


def unmatched_seen(database: str) -> bool:
    """Whether the store holds the number the call dialled as unmatched (the listener saw it)."""
    now = datetime.now(UTC)
    with Store.open(database) as store:
        return bool(store.unmatched_numbers(now - timedelta(hours=1), now + timedelta(hours=1)))
