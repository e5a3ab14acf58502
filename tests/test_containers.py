"""The production compose (docker/compose.yaml), built and run for real with podman.

`scripts/images` builds the images from the local Debian 12 base (no registry), and
podman-compose starts ringtest, PostgreSQL and Prometheus on the host's network, on
ports of their own, against the lab PBX (AMI on 127.0.0.1:5038), with the secrets as
files. A lab call must then be a row in the container's PostgreSQL and a count on the
container's /metrics, ringtest's own health check must pass, and Prometheus must scrape
ringtest with the token and hold the shipped rules. Everything is removed afterwards,
volumes too. Needs root with podman (`make test` installs it).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
PROJECT = "ringtest-test"
PORTS = {
    "RINGTEST_POSTGRES_PORT": "55432",
    "RINGTEST_WEB_PORT": "18470",
    "RINGTEST_PROMETHEUS_PORT": "19090",
}
"""Ports of their own: the host's test PostgreSQL is on 5433, lab tests use 8470."""
CALLER = "+441382000186"
"""This test's lab citizen number, used by no other test."""


@dataclass(frozen=True)
class Production:
    """The running compose project: its web token and how to reach its parts."""

    token: str

    def container(self, service: str) -> str:
        return f"{PROJECT}_{service}_1"

    def get(self, url: str, token: str | None = None) -> tuple[int, bytes]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    def psql(self, sql: str) -> str:
        return podman(
            "exec", self.container("postgres"),
            "psql", "-X", "-At", "-p", PORTS["RINGTEST_POSTGRES_PORT"], "-d", "ringtest", "-c", sql,
        ).stdout.strip()  # fmt: skip

    def healthy(self) -> bool:
        checked = subprocess.run(
            ["podman", "healthcheck", "run", self.container("ringtest")], capture_output=True
        )
        return checked.returncode == 0


def podman(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *argv], capture_output=True, text=True, check=True)


def production_settings(work: Path) -> tuple[Path, Path, str]:
    """The lab's settings as a council would mount them (no secret inline, no SIP account
    registering: the lab's call-back account is left to the lab tests), and the secret
    files beside them. Returns (settings file, secrets directory, web token)."""
    lab_text = LAB_CONFIG.read_text()
    ami_secret = tomllib.loads(lab_text)["ami"]["secret"]
    settings_text, secret_lines = re.subn(r"(?m)^secret = .*\n", "", lab_text)
    settings_text, sip_blocks = re.subn(
        r"\[\[sip\.accounts\]\]\n.*?\n\n", "", settings_text, flags=re.S
    )
    assert (secret_lines, sip_blocks) == (1, 1), "examples/lab.toml changed shape"
    settings_file = work / "ringtest.toml"
    settings_file.write_text(settings_text)
    secrets_dir = work / "secrets"
    secrets_dir.mkdir(mode=0o700)
    token = secrets.token_urlsafe()
    for name, value in {
        "ami_secret": ami_secret,
        "postgres_password": secrets.token_urlsafe(),
        "web_token": token,
    }.items():
        (secrets_dir / name).write_text(value + "\n")
        # Read inside the containers by their own users; the 0700 directory keeps
        # everyone else on the host out.
        (secrets_dir / name).chmod(0o444)
    settings_file.chmod(0o444)
    return settings_file, secrets_dir, token


@pytest.fixture(scope="module")
def images() -> None:
    """The images built from this checkout (podman's layer cache: seconds when built)."""
    if os.geteuid() != 0 or shutil.which("podman") is None:
        pytest.fail("the container test needs root and podman: run `make test` as root")
    subprocess.run([str(ROOT / "scripts" / "images")], check=True)


@pytest.fixture(scope="module")
def production(lab, images, tmp_path_factory) -> Iterator[Production]:
    work = tmp_path_factory.mktemp("compose")
    settings_file, secrets_dir, token = production_settings(work)
    campaigns_dir = work / "campaigns"
    campaigns_dir.mkdir()
    compose = [
        str(Path(sys.executable).with_name("podman-compose")),
        "--podman-args=--runtime runc",
        "-p", PROJECT,
        "-f", str(COMPOSE_FILE),
    ]  # fmt: skip
    env = {
        **os.environ,
        **PORTS,
        "RINGTEST_CONFIG_FILE": str(settings_file),
        "RINGTEST_SECRETS_DIR": str(secrets_dir),
        "RINGTEST_CAMPAIGNS_DIR": str(campaigns_dir),
    }
    try:
        subprocess.run([*compose, "up", "-d"], env=env, cwd=ROOT, check=True, capture_output=True)
        yield Production(token)
    finally:
        subprocess.run(
            [*compose, "down", "--volumes", "--timeout", "20"],
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        left = podman("ps", "--all", "--filter", f"name={PROJECT}_", "--format", "{{.Names}}")
        assert left.stdout.strip() == "", f"containers left after down: {left.stdout}"


def calls_on_metrics(body: bytes) -> float:
    """ringtest_calls_total summed over the Council Tax line's live calls."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "ringtest_calls_total"
        and sample.labels.get("department") == "Council Tax"
        and sample.labels.get("source") == "live"
    )


def test_a_lab_call_reaches_the_containers_postgres_and_metrics(production: Production) -> None:
    wait_until(production.healthy, 90.0, "ringtest's health check never passed")
    metrics_url = f"http://127.0.0.1:{PORTS['RINGTEST_WEB_PORT']}/metrics"
    status, body = production.get(metrics_url, production.token)
    assert status == 200
    counted_before = calls_on_metrics(body)

    lab_call("2001", answer="500", caller=CALLER)

    stored = wait_until(
        lambda: production.psql(f"SELECT outcome, department FROM calls WHERE caller = '{CALLER}'"),
        30.0,
        "the lab call never reached the container's PostgreSQL",
    )
    assert stored.upper() == "ANSWERED|COUNCIL TAX"
    wait_until(
        lambda: (
            calls_on_metrics(production.get(metrics_url, production.token)[1]) == counted_before + 1
        ),
        15.0,
        "the lab call was not counted on the container's /metrics",
    )
    assert production.get(metrics_url)[0] == 401


def test_prometheus_scrapes_ringtest_with_the_token_and_has_the_rules(
    production: Production,
) -> None:
    api = f"http://127.0.0.1:{PORTS['RINGTEST_PROMETHEUS_PORT']}/api/v1"

    def ringtest_target_up() -> bool:
        targets = orjson.loads(production.get(f"{api}/targets")[1])["data"]["activeTargets"]
        return [target["health"] for target in targets] == ["up"]

    def rule_health() -> dict[str, set[str]]:
        groups = orjson.loads(production.get(f"{api}/rules")[1])["data"]["groups"]
        return {group["name"]: {rule["health"] for rule in group["rules"]} for group in groups}

    wait_until(ringtest_target_up, 45.0, "Prometheus never scraped ringtest's /metrics")
    assert "ringtest.recording" in rule_health()
    wait_until(
        lambda: all(health == {"ok"} for health in rule_health().values()),
        45.0,
        "Prometheus never evaluated all of ringtest's rules healthily",
    )


def test_every_service_restarts_unless_stopped(production: Production) -> None:
    policies = {
        service: podman(
            "inspect", production.container(service), "--format",
            "{{.HostConfig.RestartPolicy.Name}}",
        ).stdout.strip()
        for service in ("ringtest", "postgres", "prometheus")
    }  # fmt: skip
    assert set(policies.values()) == {"unless-stopped"}, policies


def test_the_image_runs_the_pjsua2_wheel(images) -> None:
    imported = podman(
        "run", "--rm", "--runtime", "runc", "--network", "host", "--entrypoint", "python3",
        "localhost/ringtest:latest", "-c", "import pjsua2; print(pjsua2.Endpoint.__name__)",
    )  # fmt: skip
    assert imported.stdout.strip() == "Endpoint"
