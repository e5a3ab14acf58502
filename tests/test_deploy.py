"""Installing ringtest as a council's admin would (README "Deploy on your PBX"): the wheel
`python -m build` makes, installed with its dependencies into a fresh venv, runs; the
systemd units and the sysusers file shipped in deploy/systemd/ pass systemd's own checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ringtest

ROOT = Path(__file__).parents[1]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/ringtest/bin/ringtest"
"""Where the README installs ringtest, and the units run it from."""


def run(*command: str | Path, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=600, **options
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The `ringtest` command of the built wheel, installed into a fresh venv."""
    work = tmp_path_factory.mktemp("deploy")
    built = run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (work / "dist").glob("ringtest-*.whl")
    venv = work / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    done = run(venv / "bin" / "pip", "install", "--quiet", wheel)
    assert done.returncode == 0, done.stderr[-2000:]
    return venv / "bin" / "ringtest"


def test_the_wheel_installs_into_a_fresh_venv_and_says_its_version(installed: Path):
    done = run(installed, "--version", cwd="/")
    assert (done.returncode, done.stdout.strip()) == (
        0,
        f"ringtest, version {ringtest.__version__}",
    )


def test_the_installed_command_checks_the_example_configuration(installed: Path, tmp_path):
    config = tmp_path / "ringtest.toml"
    shutil.copy(ROOT / "examples" / "ringtest.toml", config)
    (tmp_path / "pbx-ca.pem").write_text("")
    done = run(installed, "--config", config, "config", "check", cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "no problems found"


def test_the_installed_wheel_makes_a_database_with_its_migrations(installed: Path, tmp_path):
    environment = {"RINGTEST_DB": f"sqlite:///{tmp_path / 'ringtest.db'}"}
    recorded = ROOT / "tests" / "fixtures" / "ami" / "busy_line.ami"
    replayed = run(installed, "replay", recorded, cwd="/", env=environment)
    assert replayed.returncode == 0, replayed.stderr
    upgraded = run(installed, "db", "upgrade", cwd="/", env=environment)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.rstrip().endswith("already"), upgraded.stdout


@pytest.mark.parametrize("unit", sorted(path.name for path in UNITS.glob("*.service")))
def test_each_systemd_unit_passes_systemd_analyze_verify(unit: str, installed: Path, tmp_path):
    text = (UNITS / unit).read_text()
    assert INSTALLED_AT in text
    (tmp_path / unit).write_text(text.replace(INSTALLED_AT, str(installed)))
    done = run("systemd-analyze", "verify", tmp_path / unit)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_each_unit_runs_confined_as_the_ringtest_user_and_restarts_on_failure():
    for unit in UNITS.glob("*.service"):
        settings = {
            line.partition("=")[0]: line.partition("=")[2]
            for line in unit.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        }
        assert settings["User"] == "ringtest", unit.name
        assert settings["Restart"] == "on-failure", unit.name
        assert settings["NoNewPrivileges"] == "yes", unit.name
        assert settings["ProtectSystem"] == "strict", unit.name
        assert settings["StateDirectory"] == "ringtest", unit.name


def test_the_sysusers_file_makes_the_ringtest_user_and_group(tmp_path):
    (tmp_path / "etc").mkdir()
    done = run("systemd-sysusers", f"--root={tmp_path}", "--dry-run", UNITS / "ringtest.sysusers")
    assert done.returncode == 0, done.stderr
    assert "Creating group 'ringtest'" in done.stdout + done.stderr
    assert "Creating user 'ringtest'" in done.stdout + done.stderr
