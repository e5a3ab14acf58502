"""Campaign test helpers: the lab settings, campaign files written from YAML text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ringtest.campaigns.model import CampaignDefinition
from ringtest.campaigns.source import load_campaign
from ringtest.config import Settings, load_settings
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store

REPO = Path(__file__).resolve().parents[2]

BASE_CAMPAIGN = """\
name: spring
account: ringtester
start: 2026-11-02
frequency: 3 per week
seed: 7
targets:
  - name: Council Tax
    number: "+441382434001"
  - name: Housing
    number: "+441382434002"
"""


@pytest.fixture(scope="session")
def lab_settings() -> Settings:
    """examples/lab.toml: Europe/London, GB-SCT holidays, Mon-Fri 09:00-17:00, ringtester."""
    return load_settings(LAB_CONFIG, environ={})


@pytest.fixture
def write_campaign(tmp_path: Path) -> Callable[[str, str], Path]:
    """Writes YAML text (dedented) to tmp_path/<name>; returns the path."""

    def write(text: str, name: str = "campaign.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def campaign_of(
    write_campaign: Callable[[str, str], Path], lab_settings: Settings
) -> Callable[..., CampaignDefinition]:
    """The definition of BASE_CAMPAIGN with `extra` YAML lines appended (later keys are
    given by replacing the base's with `replace={key: line}`)."""

    def build(extra: str = "", replace: dict[str, str] | None = None) -> CampaignDefinition:
        lines = [
            (replace or {}).get(line.split(":")[0], line) for line in BASE_CAMPAIGN.splitlines()
        ]
        text = "\n".join(lines) + "\n" + textwrap.dedent(extra)
        return load_campaign(write_campaign(text, "campaign.yaml"), lab_settings)

    return build


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as opened:
        yield opened
