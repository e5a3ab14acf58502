"""Build the lab PBX's root filesystem once: Debian sid with Asterisk, in a chroot.

The rootfs lives at ``<lab dir>/rootfs`` (lab dir: ``$RINGTEST_LAB_DIR``, default
``~/.cache/ringtest/lab``). Building runs ``debootstrap --variant=minbase sid``
from the mirror this machine's apt already uses, then installs Asterisk inside
the chroot. A stamp file, written last, marks a finished build; a rootfs without
it is half-built and is rebuilt, unless Asterisk in it already runs, in which
case it is adopted and stamped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from ringtest.core.errors import LabError

log = logging.getLogger(__name__)

SUITE = "sid"
LAB_PACKAGES = ("asterisk",)
"""Debian packages installed in the chroot (asterisk brings its modules and en sounds)."""

MIN_FREE_BYTES = 2 * 1024**3
"""Free disk a build needs: the finished rootfs is about 650 MB, apt caches double that."""

APT_SOURCES_DIR = Path("/etc/apt/sources.list.d")
APT_SOURCES_LIST = Path("/etc/apt/sources.list")
_APT_NO_EXPIRY = ("-o", "Acquire::Check-Valid-Until=false")


def default_lab_dir() -> Path:
    """``$RINGTEST_LAB_DIR``, or ``~/.cache/ringtest/lab``."""
    configured = os.environ.get("RINGTEST_LAB_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "ringtest" / "lab"


def rootfs_path(lab_dir: Path) -> Path:
    return lab_dir / "rootfs"


def stamp_path(lab_dir: Path) -> Path:
    return lab_dir / "rootfs.complete"


def require_root(action: str) -> None:
    """Raise `LabError` unless we run as root (chroot, mount and debootstrap need it)."""
    if os.geteuid() != 0:
        raise LabError(
            f"`ringtest lab {action}` needs root (it uses chroot and mount): "
            f"run it as root, e.g. `sudo ringtest lab {action}`"
        )


def debian_mirror(
    sources_dir: Path = APT_SOURCES_DIR, sources_list: Path = APT_SOURCES_LIST
) -> str:
    """The Debian mirror URL this machine's apt uses (never the -security archive).

    Reads deb822 ``*.sources`` files first (the ``URIs:`` of the first stanza whose
    suites are not ``-security``), then one-line ``deb URL SUITE ...`` entries.
    """
    for sources_file in sorted(sources_dir.glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", sources_file.read_text()):
            fields = _deb822_fields(stanza)
            suites = fields.get("suites", "").split()
            is_deb = "deb" in fields.get("types", "").split() and fields.get("uris")
            if is_deb and suites and not any(suite.endswith("-security") for suite in suites):
                return fields["uris"].split()[0]
    if sources_list.exists():
        for line in sources_list.read_text().splitlines():
            match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if match and not match.group(2).endswith("-security"):
                return match.group(1)
    raise LabError(
        f"no Debian mirror found in {sources_dir}/*.sources or {sources_list}: "
        "add a `deb` entry for your Debian mirror to apt's sources"
    )


def asterisk_version(rootfs: Path) -> str | None:
    """The output of ``asterisk -V`` inside `rootfs`, or None if Asterisk cannot run there."""
    try:
        done = subprocess.run(
            ["chroot", str(rootfs), "asterisk", "-V"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version.startswith("Asterisk") else None


def ensure_rootfs(lab_dir: Path) -> Path:
    """Return the lab's finished rootfs, building it first if needed."""
    rootfs = rootfs_path(lab_dir)
    if stamp_path(lab_dir).exists():
        return rootfs
    if rootfs.exists():
        version = asterisk_version(rootfs)
        if version:
            log.info("adopting existing lab rootfs %s (%s)", rootfs, version)
            _write_stamp(lab_dir, version)
            return rootfs
        log.warning("lab rootfs %s is half-built: rebuilding it", rootfs)
        _remove_rootfs(rootfs)
    build_rootfs(lab_dir)
    return rootfs


def build_rootfs(lab_dir: Path) -> None:
    """debootstrap Debian sid into ``<lab dir>/rootfs`` and install Asterisk in it."""
    require_root("up")
    if shutil.which("debootstrap") is None:
        raise LabError(
            "debootstrap not found on PATH (needed to build the lab PBX): "
            "install it with `apt-get install debootstrap`"
        )
    lab_dir.mkdir(parents=True, exist_ok=True)
    free_bytes = shutil.disk_usage(lab_dir).free
    if free_bytes < MIN_FREE_BYTES:
        raise LabError(
            f"not enough disk space to build the lab PBX in {lab_dir}: "
            f"{free_bytes / 1024**3:.1f} GB free, {MIN_FREE_BYTES / 1024**3:.0f} GB needed; "
            "free some space or set RINGTEST_LAB_DIR to a bigger disk"
        )
    mirror = debian_mirror()
    _check_mirror_reachable(mirror)
    rootfs = rootfs_path(lab_dir)
    build_log = lab_dir / "build.log"
    log.info("building lab rootfs %s from %s (log: %s)", rootfs, mirror, build_log)
    steps = (
        ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
        ["chroot", str(rootfs), "apt-get", *_APT_NO_EXPIRY, "update"],
        [
            "chroot",
            str(rootfs),
            "apt-get",
            *_APT_NO_EXPIRY,
            "install",
            "-y",
            "--no-install-recommends",
            *LAB_PACKAGES,
        ],
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with build_log.open("ab") as output:
        for argv in steps:
            done = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT, env=env)
            if done.returncode != 0:
                raise LabError(
                    f"building the lab PBX failed at `{' '.join(argv[:4])}` "
                    f"(exit {done.returncode}): see {build_log}"
                )
    version = asterisk_version(rootfs)
    if not version:
        raise LabError(f"Asterisk does not run in the freshly built {rootfs}: see {build_log}")
    _write_stamp(lab_dir, version)


def _check_mirror_reachable(mirror: str) -> None:
    release_url = f"{mirror.rstrip('/')}/dists/{SUITE}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(release_url, method="HEAD"), timeout=15):
            pass
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise LabError(
            f"Debian mirror {mirror} is unreachable ({reason}): "
            "check the network or the mirror in apt's sources"
        ) from error


def _deb822_fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in stanza.splitlines():
        if line.startswith("#") or ":" not in line or line[:1].isspace():
            continue
        key, value = line.split(":", 1)
        fields[key.strip().lower()] = value.strip()
    return fields


def _write_stamp(lab_dir: Path, version: str) -> None:
    stamp_path(lab_dir).write_text(f"{version}\nbuilt {datetime.now(UTC).isoformat()}\n")


def _remove_rootfs(rootfs: Path) -> None:
    """Delete a half-built rootfs, refusing while anything is still mounted inside it."""
    mounted = [
        line.split()[1]
        for line in Path("/proc/mounts").read_text().splitlines()
        if line.split()[1].startswith(f"{rootfs.resolve()}/")
    ]
    if mounted:
        raise LabError(
            f"cannot rebuild the half-built lab rootfs {rootfs}: {mounted[0]} is still mounted; "
            "run `ringtest lab down` first"
        )
    shutil.rmtree(rootfs)
