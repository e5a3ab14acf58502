"""SIGHUP's settings reload (`ringtest.services.reload.SettingsReload`) on a real settings
file: what it applies, what waits for a restart, and a broken file that changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.services.reload import SettingsReload
from tests.test_cli import LAB_CONFIG


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "ringtest.toml"
    path.write_text(LAB_CONFIG.read_text())
    return path


def reloader(settings_file: Path) -> SettingsReload:
    return SettingsReload(load_settings(settings_file), lambda: load_settings(settings_file))


def messages(caplog) -> list[tuple[str, str]]:
    return [(record.levelname, record.getMessage()) for record in caplog.records]


def test_a_new_standard_is_reloaded_and_said_in_one_line(settings_file, caplog):
    caplog.set_level(logging.WARNING, logger="ringtest.services.reload")
    reload = reloader(settings_file)
    text = settings_file.read_text()
    settings_file.write_text(text.replace("answer_within_rings = 7", "answer_within_rings = 5"))
    reloaded = reload()
    assert reloaded is not None and reloaded.standards.answer_within_rings == 5
    assert reload.current is reloaded
    assert messages(caplog) == [("WARNING", "settings reloaded: 12 lines, answer within 5 rings")]


def test_a_changed_ami_section_waits_for_a_restart_and_says_so(settings_file, caplog):
    caplog.set_level(logging.WARNING, logger="ringtest.services.reload")
    reload = reloader(settings_file)
    settings_file.write_text(settings_file.read_text().replace("port = 5038", "port = 5039"))
    assert reload() is not None
    assert messages(caplog)[0] == (
        "WARNING",
        "settings reloaded, but [ami] changed: it takes effect when ringtest is restarted "
        "(SIGHUP applies [lines], [standards], [calendar])",
    )


def test_a_broken_file_is_one_error_per_problem_and_the_old_settings_run_on(settings_file, caplog):
    reload = reloader(settings_file)
    before = reload.current
    settings_file.write_text(settings_file.read_text() + "\n[standards]\nnonsense = 1\n")
    assert reload() is None
    assert reload.current is before
    levels = {level for level, _ in messages(caplog)}
    assert levels == {"ERROR"}
    assert messages(caplog)[-1] == (
        "ERROR",
        "settings not reloaded: ringtest runs on with the settings it had",
    )
