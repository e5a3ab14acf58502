"""Config mistakes that used to pass silently (issue 12, item 8): each is one line naming the
setting and the fix, and `ringtest config check` lists them all and exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.campaigns.source import load_campaign
from ringtest.config import load_settings
from ringtest.core.errors import CampaignError, ConfigError
from ringtest.lab.settings import LAB_CONFIG

ROOT = Path(__file__).parents[1]
COUNCIL = ROOT / "schedules" / "council.yaml"


def load_error(tmp_path: Path, text: str) -> str:
    config = tmp_path / "ringtest.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return str(raised.value).removeprefix(f"{config}: ")


def test_a_uk_number_one_digit_short_is_refused(tmp_path: Path) -> None:
    assert load_error(tmp_path, '[[lines]]\nnumber = "01307 47300"\ndepartment = "Housing"\n') == (
        "lines[0].number '01307 47300' is not a number in use (+44130747300: the wrong number "
        "of digits for its area code, or a range never allocated): check the digits against "
        "the number the public dials"
    )


@pytest.mark.parametrize(
    "number", ["01307 473000", "01632 960001", "07700 900123", "0115 496 0000"]
)
def test_real_and_ofcom_drama_numbers_are_accepted(tmp_path: Path, number: str) -> None:
    config = tmp_path / "ringtest.toml"
    config.write_text(f'[[lines]]\nnumber = "{number}"\ndepartment = "Housing"\n')
    assert load_settings(config).lines[0].number.startswith("+44")


def test_a_number_with_letters_is_refused(tmp_path: Path) -> None:
    assert load_error(tmp_path, '[standards]\ntest_caller_ids = ["0800 COUNCIL"]\n') == (
        "standards.test_caller_ids[0] '0800 COUNCIL' has letters: phone keypad words are "
        "dialled as digits, so write the number in digits, e.g. 0800 268 6245 for 0800 COUNCIL"
    )


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ('queue = "benefits"', 'queue = "benefits"', "queue 'benefits'"),
        ('extension = "2001"', 'extension = "2001"', "extension '2001'"),
        ('number = "01382 434001"', 'number = "+441382434001"', "number '+441382434001'"),
    ],
)
def test_the_same_line_under_two_departments_is_refused(tmp_path, first, second, said) -> None:
    text = (
        f'[[lines]]\n{first}\ndepartment = "Benefits"\n'
        f'[[lines]]\n{second}\ndepartment = "Housing"\n'
    )
    assert load_error(tmp_path, text) == (
        f"lines has {said} twice (departments 'Benefits' and 'Housing'): keep one [[lines]] "
        "entry for it, with the department that answers it"
    )


def test_answer_within_7000_rings_is_refused_as_a_unit_mistake(tmp_path: Path) -> None:
    assert load_error(tmp_path, "[standards]\nanswer_within_rings = 7000\n") == (
        "standards.answer_within_rings 7000 is more than 30 rings (over a minute and a half "
        "of ringing): it counts rings, not milliseconds or seconds; councils use 3 to 7"
    )


def campaign_with(tmp_path: Path, old: str, new: str) -> Path:
    text = COUNCIL.read_text()
    assert old in text
    path = tmp_path / "council.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_campaign_target_of_an_unconfigured_department_is_refused(tmp_path: Path) -> None:
    path = campaign_with(tmp_path, "department: Housing", "department: Housnig")
    with pytest.raises(CampaignError, match="department 'Housnig' of target") as raised:
        load_campaign(path, load_settings(LAB_CONFIG))
    assert "is not the department of any [[lines]] entry: use one of Switchboard" in str(
        raised.value
    )


def test_a_campaign_target_number_with_letters_is_refused(tmp_path: Path) -> None:
    settings = load_settings(LAB_CONFIG)
    text = COUNCIL.read_text()
    first_uri = next(line for line in text.splitlines() if line.strip().startswith("uri:"))
    path = campaign_with(tmp_path, first_uri, first_uri.split("uri:")[0] + 'number: "0800 COUNCIL"')
    with pytest.raises(CampaignError, match="'0800 COUNCIL' has letters"):
        load_campaign(path, settings)


def config_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args, "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_config_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    config = tmp_path / "ringtest.toml"
    config.write_text(
        '[[lines]]\nnumber = "01307 47300"\ndepartment = "Housing"\n'
        "[standards]\nanswer_within_rings = 7000\n"
    )
    done = config_check("--config", str(config))
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "2 problems:"
    assert [line.split()[1] for line in done.stdout.splitlines()[1:]] == [
        "lines[0].number",
        "standards.answer_within_rings",
    ]


def test_config_check_prints_the_effective_settings_with_secrets_hidden() -> None:
    done = config_check("--config", str(LAB_CONFIG))
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert '  ami.secret = "***"' in lines
    assert '  ami.host = "127.0.0.1"' in lines
    assert "lab-listener-secret" not in done.stdout
    assert "lab-ringtester-secret" not in done.stdout
    assert lines[-1] == "no problems found"
