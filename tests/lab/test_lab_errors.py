"""Lab set-up mistakes give one clear line naming the thing and the fix."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from ringtest.core.errors import LabError
from ringtest.lab import build, pbx
from ringtest.lab.ports import LabPort, check_ports_free


def test_lab_up_as_non_root_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(LabError) as error:
        pbx.lab_up(tmp_path)
    assert str(error.value) == (
        "`ringtest lab up` needs root (it uses chroot and mount): "
        "run it as root, e.g. `sudo ringtest lab up`"
    )


def test_build_without_debootstrap_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(LabError) as error:
        build.ensure_rootfs(tmp_path / "lab")
    assert str(error.value) == (
        "debootstrap not found on PATH (needed to build the lab PBX): "
        "install it with `apt-get install debootstrap`"
    )


def test_build_on_a_full_disk_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    nearly_full = SimpleNamespace(total=0, used=0, free=512 * 1024**2)
    monkeypatch.setattr(build.shutil, "disk_usage", lambda _path: nearly_full)
    with pytest.raises(LabError) as error:
        build.build_rootfs(tmp_path)
    assert str(error.value) == (
        f"not enough disk space to build the lab PBX in {tmp_path}: 0.5 GB free, 2 GB needed; "
        "free some space or set RINGTEST_LAB_DIR to a bigger disk"
    )


def test_build_with_an_unreachable_mirror_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    mirror = f"http://127.0.0.1:{dead_port}/debian"
    monkeypatch.setattr(build, "debian_mirror", lambda: mirror)
    with pytest.raises(LabError) as error:
        build.build_rootfs(tmp_path)
    assert str(error.value) == (
        f"Debian mirror {mirror} is unreachable ([Errno 111] Connection refused): "
        "check the network or the mirror in apt's sources"
    )
    assert not (tmp_path / "rootfs").exists()


def test_a_taken_port_is_named_with_its_role() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(LabError) as error:
            check_ports_free([LabPort("127.0.0.1", port, "tcp", "Asterisk AMI")])
    assert str(error.value) == (
        f"port 127.0.0.1:{port}/tcp (Asterisk AMI) is already in use by another program: "
        f"stop it (see `ss -lnp sport = :{port}`) and run `ringtest lab up` again"
    )


def test_a_free_port_passes_the_check() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check_ports_free([LabPort("127.0.0.1", port, "udp", "lab staff agent staff1")])


def test_mirror_comes_from_the_deb822_entry_that_is_not_security(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example.org/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example.org/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    mirror = build.debian_mirror(tmp_path, tmp_path / "sources.list")
    assert mirror == "http://mirror.example.org/debian"


def test_mirror_falls_back_to_sources_list(tmp_path: Path) -> None:
    sources_list = tmp_path / "sources.list"
    sources_list.write_text(
        "# deb http://commented.example.org/debian sid main\n"
        "deb http://security.example.org/debian-security bookworm-security main\n"
        "deb [arch=amd64] http://mirror.example.org/debian bookworm main\n"
    )
    assert build.debian_mirror(tmp_path, sources_list) == "http://mirror.example.org/debian"


def test_no_mirror_in_apt_sources_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(LabError) as error:
        build.debian_mirror(tmp_path, tmp_path / "sources.list")
    assert str(error.value) == (
        f"no Debian mirror found in {tmp_path}/*.sources or {tmp_path}/sources.list: "
        "add a `deb` entry for your Debian mirror to apt's sources"
    )


def test_half_built_rootfs_is_removed_before_rebuilding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    half_built = tmp_path / "rootfs"
    (half_built / "etc").mkdir(parents=True)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(LabError, match="^debootstrap not found on PATH"):
        build.ensure_rootfs(tmp_path)
    assert not half_built.exists()
    assert not build.stamp_path(tmp_path).exists()


@pytest.mark.lab
def test_finished_rootfs_without_stamp_is_adopted(lab: pbx.LabStatus, tmp_path: Path) -> None:
    (tmp_path / "rootfs").symlink_to(build.rootfs_path(lab.lab_dir))
    assert build.ensure_rootfs(tmp_path) == tmp_path / "rootfs"
    assert build.stamp_path(tmp_path).read_text().startswith("Asterisk 22.")
