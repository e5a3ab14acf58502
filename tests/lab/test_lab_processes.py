"""How the lab knows its own processes again (`ringtest.lab.processes.is_running`): a desk
phone started by ``python3`` is found by a later ``lab up`` run by ``python``, so it is not
started twice (once, a dozen desk phones registered as staff9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ringtest.lab.processes import is_running


def test_a_python_module_is_known_whatever_the_interpreter_is_called(tmp_path: Path):
    interpreter = tmp_path / "python3-by-another-name"
    interpreter.symlink_to(sys.executable)
    server = subprocess.Popen(
        [str(interpreter), "-m", "http.server", "0", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert is_running(server.pid, "http.server")
        assert is_running(server.pid, "python3-by-another-name")
        assert not is_running(server.pid, "python")
        assert not is_running(server.pid, "ringtest.lab.desk_phone")
    finally:
        server.kill()
        server.wait()
    assert not is_running(server.pid, "http.server")
