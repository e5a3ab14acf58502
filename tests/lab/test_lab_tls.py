"""The lab PBX's SIP over TLS: its certificate, the transport serving it, the Docker copy.

The certificate tests make a real one with openssl and shake hands with it; the lab
test talks TLS to the running Asterisk on 127.0.0.1:5061.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from pathlib import Path

import pytest

from ringtest.lab.accounts import LAB_HOST
from ringtest.lab.pbx import LabStatus
from ringtest.lab.tls import (
    CERT_PATH,
    KEY_PATH,
    OPENSSL_ARGS,
    SIP_TLS_PORT,
    ensure_lab_certificate,
    lab_tls_ca_file,
)
from tests.lab.test_lab_config import REPO, sections


def handshake(ca_file: Path, port: int) -> str:
    """The TLS version agreed with 127.0.0.1:`port`, trusting only `ca_file`."""
    client = ssl.create_default_context(cafile=str(ca_file))
    with (
        socket.create_connection((LAB_HOST, port), timeout=5) as raw,
        client.wrap_socket(raw, server_hostname=LAB_HOST) as tls,
    ):
        return tls.version()


def test_pjsip_tls_transport_uses_the_lab_certificate_paths_and_port() -> None:
    transport = dict(sections("pjsip.conf"))["transport-tls"]
    assert transport["protocol"] == "tls"
    assert transport["bind"] == f"{LAB_HOST}:{SIP_TLS_PORT}"
    assert transport["cert_file"] == f"/{CERT_PATH}"
    assert transport["priv_key_file"] == f"/{KEY_PATH}"


def test_the_docker_image_makes_its_certificate_as_the_lab_does() -> None:
    dockerfile = (REPO / "docker" / "Dockerfile.asterisk").read_text()
    command = re.sub(r"\s*\\\n\s*", " ", dockerfile)
    made_as_the_lab = " ".join(
        ["openssl", *OPENSSL_ARGS, "-keyout", f"/{KEY_PATH}", "-out", f"/{CERT_PATH}"]
    )
    assert made_as_the_lab in command
    assert "install -y --no-install-recommends asterisk openssl" in command


def test_the_certificate_is_made_once_with_a_private_key(tmp_path: Path) -> None:
    cert = ensure_lab_certificate(tmp_path)
    assert cert == lab_tls_ca_file(tmp_path)
    key = tmp_path / KEY_PATH
    assert key.stat().st_mode & 0o777 == 0o600
    made = cert.read_bytes(), key.read_bytes()
    assert ensure_lab_certificate(tmp_path) == cert
    assert (cert.read_bytes(), key.read_bytes()) == made
    assert sorted(cert.parent.iterdir()) == [cert, key]  # no scratch files left


def test_a_client_trusting_the_certificate_verifies_a_server_for_127_0_0_1(
    tmp_path: Path,
) -> None:
    cert = ensure_lab_certificate(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, tmp_path / KEY_PATH)
    with socket.create_server((LAB_HOST, 0)) as listener:

        def serve_one() -> None:
            connection, _ = listener.accept()
            with server.wrap_socket(connection, server_side=True):
                pass

        serving = threading.Thread(target=serve_one)
        serving.start()
        assert handshake(cert, listener.getsockname()[1]).startswith("TLSv1.")
        serving.join(timeout=5)


@pytest.mark.lab
def test_the_running_lab_serves_tls_1_2_with_its_certificate(lab: LabStatus) -> None:
    assert handshake(lab.tls_ca_file, SIP_TLS_PORT) == "TLSv1.2"


@pytest.mark.lab
def test_the_running_lab_is_not_trusted_without_its_certificate(lab: LabStatus) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(Path(ssl.get_default_verify_paths().cafile), SIP_TLS_PORT)
