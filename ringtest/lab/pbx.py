"""Run the lab PBX: a real Asterisk 22 in the Debian sid chroot, plus its staff agents.

`lab_up` builds the rootfs if needed, installs the lab config from
``docker/asterisk/`` (the repo's one copy, shared with the Docker deployment)
over the chroot's ``/etc/asterisk``, mounts ``/proc`` in the chroot, starts
``asterisk -f`` detached, waits for AMI's banner on 127.0.0.1:5038 and PJSIP on
127.0.0.1:5060/udp and 5061/tcp (TLS, with the certificate `ringtest.lab.tls` makes),
then starts the sipp staff agents. It is idempotent: when the lab is already up it
only installs changed config (with a reload) and restarts missing staff agents.
`lab_down` stops everything and unmounts. Pid and log files live in the lab dir.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ringtest
from ringtest.core.errors import LabError
from ringtest.lab.accounts import AMI_PORT, LAB_HOST, SIP_PORT
from ringtest.lab.build import default_lab_dir, ensure_rootfs, require_root, rootfs_path
from ringtest.lab.ports import LabPort, check_ports_free, is_listening, read_ami_banner
from ringtest.lab.processes import running_pid, spawn_detached, stop, wait_until
from ringtest.lab.staff import (
    StaffAgentStatus,
    staff_ports_down,
    staff_status,
    start_staff,
    stop_staff,
)
from ringtest.lab.tls import SIP_TLS_PORT, ensure_lab_certificate, lab_tls_ca_file

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
RELOAD_TIMEOUT_S = 5.0
"""seconds a ``core reload`` may take to start a new PJSIP transport."""
ASTERISK_ARGV = ("asterisk", "-C", "/etc/asterisk/asterisk.conf", "-f", "-n")
ASTERISK_LOG = "var/log/asterisk/messages.log"
"""Asterisk's own log, relative to the rootfs (see docker/asterisk/logger.conf)."""
CEL_LOG_DIR = "var/log/asterisk/cel-custom"
"""Where cel_custom writes (docker/asterisk/cel_custom.conf), relative to the rootfs: the
Debian package makes cdr-csv/ and cdr-custom/ but not this, and cel_custom never creates it."""

AMI = LabPort(LAB_HOST, AMI_PORT, "tcp", "Asterisk AMI")
SIP_UDP = LabPort(LAB_HOST, SIP_PORT, "udp", "Asterisk PJSIP")
SIP_TCP = LabPort(LAB_HOST, SIP_PORT, "tcp", "Asterisk PJSIP")
SIP_TLS = LabPort(LAB_HOST, SIP_TLS_PORT, "tcp", "Asterisk PJSIP TLS")

DEV_NODES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}
"""Devices Asterisk opens, made in the chroot's /dev if missing: name -> (major, minor)."""


@dataclass(frozen=True, slots=True)
class LabStatus:
    """What runs in the lab: Asterisk's pid, version and AMI banner, and the staff agents."""

    lab_dir: Path
    pid: int | None
    asterisk_version: str | None
    ami_banner: str | None
    staff: tuple[StaffAgentStatus, ...]

    @property
    def up(self) -> bool:
        return self.pid is not None and self.ami_banner is not None

    @property
    def tls_ca_file(self) -> Path:
        """The lab's self-signed certificate: the CA file a SIP-over-TLS client trusts."""
        return lab_tls_ca_file(rootfs_path(self.lab_dir))

    def lines(self) -> list[str]:
        """A short human report, one fact per line."""
        if not self.up:
            staff_up = [agent.username for agent in self.staff if agent.up]
            return ["lab PBX is down"] + (
                [f"staff agents still running: {', '.join(staff_up)}"] if staff_up else []
            )
        return [
            f"lab PBX up: {self.asterisk_version} (pid {self.pid})",
            f"AMI {AMI.host}:{AMI.port} ({self.ami_banner})",
            f"SIP {SIP_UDP.host}:{SIP_UDP.port} udp+tcp, {SIP_TLS.port} tls "
            f"(CA file {self.tls_ca_file})",
            "staff agents: "
            + ", ".join(agent.where + ("" if agent.up else " DOWN") for agent in self.staff),
            f"lab dir: {self.lab_dir}",
        ]


def asterisk_config_dir() -> Path:
    """The repo's one copy of the lab's Asterisk config: ``docker/asterisk/``."""
    config_dir = Path(ringtest.__file__).resolve().parent.parent / "docker" / "asterisk"
    if not (config_dir / "asterisk.conf").exists():
        raise LabError(
            f"lab Asterisk config not found at {config_dir}: "
            "run the lab from a ringtest source checkout (pip install -e .)"
        )
    return config_dir


def lab_status(lab_dir: Path | None = None) -> LabStatus:
    """Whether the lab PBX is up, with pid, Asterisk version, AMI banner and staff agents."""
    lab_dir = lab_dir or default_lab_dir()
    pid = running_pid(_pid_file(lab_dir), "asterisk")
    banner = read_ami_banner(AMI.host, AMI.port) if pid else None
    version = _running_version(rootfs_path(lab_dir)) if banner else None
    return LabStatus(lab_dir, pid, version, banner, staff_status(lab_dir))


def lab_up(lab_dir: Path | None = None) -> LabStatus:
    """Bring the lab up (build, configure, start Asterisk and staff) unless it already is."""
    require_root("up")
    lab_dir = lab_dir or default_lab_dir()
    lab_dir.mkdir(parents=True, exist_ok=True)
    with _lab_lock(lab_dir):
        if running_pid(_pid_file(lab_dir), "asterisk") is None:
            _start_asterisk(lab_dir)
        else:
            _refresh_running_asterisk(lab_dir)
        start_staff(lab_dir)
        status = lab_status(lab_dir)
    if not status.up:
        raise LabError(f"lab PBX stopped right after starting: see {asterisk_log_path(lab_dir)}")
    return status


def lab_down(lab_dir: Path | None = None) -> None:
    """Stop the staff agents and Asterisk, then unmount the chroot's /proc."""
    require_root("down")
    lab_dir = lab_dir or default_lab_dir()
    lab_dir.mkdir(parents=True, exist_ok=True)
    with _lab_lock(lab_dir):
        stop_staff(lab_dir)
        pid = running_pid(_pid_file(lab_dir), "asterisk")
        if pid is not None:
            stop(pid, "asterisk")
        _pid_file(lab_dir).unlink(missing_ok=True)
        proc = rootfs_path(lab_dir) / "proc"
        if os.path.ismount(proc):
            subprocess.run(["umount", str(proc)], check=True)


def asterisk_log_path(lab_dir: Path | None = None) -> Path:
    """Asterisk's log file (``messages.log``) as seen from outside the chroot."""
    return rootfs_path(lab_dir or default_lab_dir()) / ASTERISK_LOG


def lab_log_tail(lab_dir: Path | None = None, lines: int = 40) -> list[str]:
    """The last `lines` lines of Asterisk's log."""
    log_path = asterisk_log_path(lab_dir)
    if not log_path.exists():
        raise LabError(f"no Asterisk log at {log_path} yet: start the lab with `ringtest lab up`")
    return log_path.read_text(errors="replace").splitlines()[-lines:]


def install_config(rootfs: Path, config_dir: Path) -> None:
    """Replace the chroot's /etc/asterisk with exactly the files in `config_dir`, and make
    the log directory its CEL file goes to."""
    (rootfs / CEL_LOG_DIR).mkdir(parents=True, exist_ok=True)
    etc_asterisk = rootfs / "etc" / "asterisk"
    if etc_asterisk.exists():
        shutil.rmtree(etc_asterisk)
    shutil.copytree(config_dir, etc_asterisk)


def _start_asterisk(lab_dir: Path) -> None:
    check_ports_free([AMI, SIP_UDP, SIP_TCP, SIP_TLS, *staff_ports_down(lab_dir)])
    rootfs = ensure_rootfs(lab_dir)
    ensure_lab_certificate(rootfs)
    install_config(rootfs, asterisk_config_dir())
    _prepare_chroot(rootfs)
    output_file = lab_dir / "asterisk.out"
    pid = spawn_detached(
        ["chroot", str(rootfs), *ASTERISK_ARGV], _pid_file(lab_dir), output_file, cwd=lab_dir
    )
    log.info("started Asterisk (pid %d), waiting for AMI and SIP", pid)
    ready = wait_until(
        lambda: (
            running_pid(_pid_file(lab_dir), "asterisk") is None
            or (
                read_ami_banner(AMI.host, AMI.port) is not None
                and is_listening(SIP_UDP)
                and is_listening(SIP_TLS)
            )
        ),
        timeout_s=STARTUP_TIMEOUT_S,
    )
    if not ready or running_pid(_pid_file(lab_dir), "asterisk") is None:
        raise LabError(
            f"Asterisk did not answer on AMI {AMI.host}:{AMI.port} and SIP "
            f"{SIP_UDP.host}:{SIP_UDP.port}/udp, {SIP_TLS.port}/tcp (TLS) "
            f"within {STARTUP_TIMEOUT_S:.0f} s: "
            f"see {output_file} and {asterisk_log_path(lab_dir)}"
        )


def _refresh_running_asterisk(lab_dir: Path) -> None:
    """A running lab whose docker/asterisk/ files changed gets them and a ``core reload``
    (dialplan, PJSIP, queues, voicemail, manager, CEL; calls in progress carry on).
    A reload never loads a module that is not running, so each one modules.conf now
    names and Asterisk does not run (`modules_to_load`) gets a ``module load``, in
    modules.conf's order (a module's dependencies are listed before it).

    A reload also starts a PJSIP transport new to pjsip.conf (Asterisk 22 does; it only
    keeps an existing transport's settings), so a lab whose TLS port is not listening
    (started before transport-tls existed, or without its certificate) is reloaded too.
    """
    rootfs = rootfs_path(lab_dir)
    config_dir = asterisk_config_dir()
    config_changed = _config_files(config_dir) != _config_files(rootfs / "etc" / "asterisk")
    if not config_changed and is_listening(SIP_TLS):
        return
    ensure_lab_certificate(rootfs)
    install_config(rootfs, config_dir)
    _asterisk_command(rootfs, "core reload")
    running = _asterisk_command(rootfs, "module show")
    for module in modules_to_load((config_dir / "modules.conf").read_text(), running):
        _asterisk_command(rootfs, f"module load {module}")
        log.warning("module %s loaded into the running lab Asterisk", module)
    log.warning("lab config installed from %s and Asterisk reloaded", config_dir)
    if not wait_until(lambda: is_listening(SIP_TLS), timeout_s=RELOAD_TIMEOUT_S):
        raise LabError(
            f"Asterisk reloaded its config but PJSIP TLS does not listen on {SIP_TLS}: "
            f"see {asterisk_log_path(lab_dir)}, then restart the lab "
            "(`ringtest lab down && ringtest lab up`)"
        )


def modules_to_load(modules_conf: str, module_show: str) -> list[str]:
    """The modules `modules_conf` loads (``load => name.so`` lines) that are missing from
    `module_show` (``asterisk -rx "module show"``: one module a line, its name first), in
    the file's order."""
    running = {line.split()[0] for line in module_show.splitlines() if line.split()}
    named = (
        line.partition("=>")[2].split(";")[0].strip()
        for line in modules_conf.splitlines()
        if line.split("=>")[0].strip() == "load"
    )
    return [module for module in named if module and module not in running]


def _asterisk_command(rootfs: Path, command: str) -> str:
    """Run one CLI command on the running lab Asterisk; its output ("" when it failed)."""
    done = subprocess.run(
        ["chroot", str(rootfs), "asterisk", "-rx", command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout


def _config_files(directory: Path) -> dict[str, bytes]:
    """Each config file's name and bytes (empty when the directory is missing)."""
    if not directory.is_dir():
        return {}
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def _prepare_chroot(rootfs: Path) -> None:
    """Mount /proc in the chroot and make sure the /dev nodes Asterisk opens exist."""
    proc = rootfs / "proc"
    if not os.path.ismount(proc):
        subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
    for name, (major, minor) in DEV_NODES.items():
        node = rootfs / "dev" / name
        if not node.exists():
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))


def _running_version(rootfs: Path) -> str | None:
    """ "Asterisk 22.x.y" from the running Asterisk's ``core show version``."""
    try:
        done = subprocess.run(
            ["chroot", str(rootfs), "asterisk", "-rx", "core show version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    return " ".join(words[:2]) if words[:1] == ["Asterisk"] else None


def _pid_file(lab_dir: Path) -> Path:
    return lab_dir / "asterisk.pid"


@contextmanager
def _lab_lock(lab_dir: Path) -> Iterator[None]:
    """Serialise up/down between processes sharing a lab dir (e.g. parallel test runs)."""
    with (lab_dir / "lab.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield
