"""The repo's one copy of the lab's Asterisk config agrees with `ringtest.lab.accounts`."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

from ringtest.lab.accounts import (
    AMI_USERS,
    ANSWERING_AGENTS,
    CALLERS,
    DEPARTMENTS,
    RECEPTION_AGENT,
    RTP_PORT_RANGE,
    TRANSFER_TARGET,
    VOICEMAIL_RING_SECONDS,
    LineKind,
    department_lines,
)
from ringtest.lab.pbx import asterisk_config_dir
from ringtest.lab.settings import lab_settings

REPO = Path(__file__).resolve().parents[2]
CONFIG = asterisk_config_dir()
AMI_CAPTURES = REPO / "tests" / "fixtures" / "ami"
TRACKED_EVENTS = (
    "Newchannel", "Newexten", "Newstate", "DialState", "DialEnd", "QueueCallerJoin",
    "NewCallerid", "SoftHangupRequest", "Hangup", "AttendedTransfer", "BlindTransfer",
)  # fmt: skip
"""The events `ami_listener.tracker` reads; the restart detection reads FullyBooted."""


def sections(conf_file: str) -> list[tuple[str, dict[str, str]]]:
    """(section name, its key = value pairs) in file order; templates included."""
    parsed: list[tuple[str, dict[str, str]]] = []
    for raw in (CONFIG / conf_file).read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if header := re.match(r"\[([^\]]+)\]", line):
            parsed.append((header.group(1), {}))
        elif "=" in line and parsed:
            key, value = line.split("=", 1)
            parsed[-1][1][key.strip().rstrip(">")] = value.strip().lstrip(">").strip()
    return parsed


def pjsip_objects(object_type: str) -> dict[str, dict[str, str]]:
    return {
        name: values
        for name, values in sections("pjsip.conf")
        if values.get("type") == object_type or (object_type == "auth" and "password" in values)
    }


def test_manager_users_match_accounts() -> None:
    users = dict(sections("manager.conf"))
    for user in AMI_USERS:
        assert users[user.username]["secret"] == user.secret
        assert users[user.username]["read"] == ",".join(user.read)
        assert users[user.username]["write"] == ",".join(user.write)
    assert users["general"]["bindaddr"] == "127.0.0.1"
    assert users["general"]["timestampevents"] == "yes"


def event_classes() -> dict[str, str]:
    """Event name -> its read class, from the Privilege headers of the lab's captures."""
    classes: dict[str, str] = {}
    for capture in AMI_CAPTURES.glob("*.ami"):
        text = capture.read_bytes().decode("utf-8", "replace")
        for event, privilege in re.findall(r"Event: (\w+)\r\nPrivilege: (\w+),", text):
            classes[event] = privilege
    return classes


def test_the_listener_reads_only_the_classes_of_the_events_it_uses() -> None:
    listener = dict(sections("manager.conf"))["listener"]
    classes = event_classes()
    needed = {classes[event] for event in (*TRACKED_EVENTS, "FullyBooted", "Shutdown")}
    assert needed == {"call", "agent", "dialplan", "system"}
    assert set(listener["read"].split(",")) == needed
    assert listener["write"] == "reporting"


def test_the_listener_is_not_sent_varset() -> None:
    listener = dict(sections("manager.conf"))["listener"]
    assert event_classes()["VarSet"] in listener["read"].split(",")
    filters = {key: value for key, value in listener.items() if key.startswith("eventfilter")}
    assert filters == {"eventfilter(action(exclude),name(VarSet))": ""}


def test_caller_accounts_match_pjsip() -> None:
    auths = pjsip_objects("auth")
    endpoints = {name: values for name, values in sections("pjsip.conf") if "context" in values}
    for account in CALLERS:
        assert auths[account.username]["password"] == account.secret
        assert endpoints[account.username]["context"] == account.context
        assert endpoints[account.username]["callerid"].endswith(f"<{account.caller_id}>")


def test_staff_contacts_and_secrets_match_pjsip() -> None:
    auths = pjsip_objects("auth")
    aors = pjsip_objects("aor")
    for agent in ANSWERING_AGENTS:
        assert aors[agent.username]["contact"] == agent.contact
        assert auths[agent.username]["password"] == agent.secret


def test_every_department_and_alias_is_in_the_dialplan() -> None:
    dialplan = (CONFIG / "extensions.conf").read_text()
    for dept in DEPARTMENTS:
        assert f"exten => {dept.extension},1," in dialplan
        assert f"exten => {dept.e164},1,Goto({dept.extension},1)" in dialplan
        for staff in dept.staff:
            assert f"PJSIP/{staff}" in dialplan + (CONFIG / "queues.conf").read_text()
    assert f"Dial(PJSIP/staff7,{VOICEMAIL_RING_SECONDS}," in dialplan


def test_rtp_range_matches() -> None:
    rtp = dict(sections("rtp.conf"))["general"]
    assert (int(rtp["rtpstart"]), int(rtp["rtpend"])) == RTP_PORT_RANGE


def test_no_asterisk_config_file_name_exists_twice_in_the_repo() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    names = Counter(Path(path).name for path in tracked)
    duplicated = [name for name in sorted(p.name for p in CONFIG.iterdir()) if names[name] > 1]
    assert duplicated == []


def test_docker_files_use_the_one_config_copy() -> None:
    compose = (REPO / "docker" / "lab" / "compose.yaml").read_text()
    dockerfile = (REPO / "docker" / "Dockerfile.asterisk").read_text()
    assert "context: ../..\n      dockerfile: docker/Dockerfile.asterisk" in compose
    assert "dockerfile: docker/Dockerfile\n" in compose
    assert compose.count("network_mode: host") == 2
    assert "COPY docker/asterisk/ /etc/asterisk/" in dockerfile
    assert dockerfile.count("apt-get -o Acquire::Check-Valid-Until=false") == 2


def queue_members() -> dict[str, list[str]]:
    """queues.conf: each queue's ``member =>`` interfaces, in file order."""
    members: dict[str, list[str]] = {}
    for raw in (CONFIG / "queues.conf").read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if header := re.match(r"\[([^\]]+)\]", line):
            queue = members.setdefault(header.group(1), [])
        elif line.startswith("member =>"):
            queue.append(line.split("=>", 1)[1].split(",")[0].strip())
    return members


def test_every_queue_department_has_its_queue_with_its_staff_as_members() -> None:
    queues = dict(sections("queues.conf"))
    members = queue_members()
    for dept in (d for d in DEPARTMENTS if d.kind is LineKind.QUEUE):
        assert members[dept.queue] == [f"PJSIP/{staff}" for staff in dept.staff], dept
    assert {queues[d.queue]["strategy"] for d in DEPARTMENTS if d.queue} > {"ringall"}


def test_reception_can_blind_transfer_to_its_target() -> None:
    endpoints = {name: values for name, values in sections("pjsip.conf") if "context" in values}
    endpoint = endpoints[RECEPTION_AGENT.username]
    assert endpoint["context"] == "council-inbound"
    assert endpoint.get("allow_transfer", "yes") == "yes"
    assert f"exten => {TRANSFER_TARGET},1," in (CONFIG / "extensions.conf").read_text()
    modules = (CONFIG / "modules.conf").read_text().splitlines()
    assert "load => res_pjsip_refer.so" in modules


def test_every_staff_agent_has_its_own_sip_and_rtp_ports() -> None:
    sip_ports = [agent.sip_port for agent in ANSWERING_AGENTS]
    rtp_ports = [agent.rtp_port for agent in ANSWERING_AGENTS]
    assert len(set(sip_ports)) == len(sip_ports)
    assert all(abs(a - b) > 2 for i, a in enumerate(rtp_ports) for b in rtp_ports[i + 1 :])


def test_ringtest_lab_config_monitors_every_lab_department() -> None:
    lines = [
        line.model_dump(
            exclude_none=True, exclude={"outbound_caller_ids", "contexts", "devices", "announce"}
        )
        for line in lab_settings().lines
    ]
    assert lines == department_lines()


def test_the_contexts_and_devices_lab_lines_name_are_theirs_alone_in_the_dialplan() -> None:
    """What the CDR import reads to find a line's calls (`lines.contexts`, `lines.devices`)
    must be that line's only: its IVR's context, a device only its extension dials."""
    dialplan = (CONFIG / "extensions.conf").read_text()
    contexts = {name for name, _ in sections("extensions.conf")}
    for line in lab_settings().lines:
        assert set(line.contexts) <= contexts, line
        for device in line.devices:
            dialling = re.findall(
                rf"^exten => (\S+?),.*\n(?: same.*\n)*? same => n,Dial\({re.escape(device)},",
                dialplan,
                re.M,
            )
            assert dialling == [line.extension], (line, dialling)
    assert any(line.contexts for line in lab_settings().lines)
    assert any(line.devices for line in lab_settings().lines)
