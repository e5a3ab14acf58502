"""The lab PBX's TLS certificate: self-signed for 127.0.0.1, made with the host's openssl.

PJSIP's ``[transport-tls]`` (``docker/asterisk/pjsip.conf``, 127.0.0.1:5061) reads the
certificate and key at `CERT_PATH` and `KEY_PATH` inside the rootfs. The certificate is
its own CA: a SIP client trusts the lab by naming it as its CA file
(`sip.accounts.tls_ca_file`). It is made once per rootfs, kept across `lab down` and
`lab up`, and never committed; ``docker/Dockerfile.asterisk`` makes its own at the
same paths with the same `OPENSSL_ARGS`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ringtest.core.errors import LabError
from ringtest.lab.accounts import LAB_HOST

SIP_TLS_PORT = 5061
"""PJSIP's TLS port on `LAB_HOST` (TCP)."""
CERT_PATH = "var/lib/asterisk/keys/lab-tls.crt"
"""The certificate (PEM), relative to the rootfs; also the clients' CA file."""
KEY_PATH = "var/lib/asterisk/keys/lab-tls.key"
"""Its private key (PEM, unencrypted), relative to the rootfs."""
VALID_DAYS = 3650

OPENSSL_ARGS = (
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    str(VALID_DAYS),
    "-subj",
    f"/CN={LAB_HOST}",
    "-addext",
    f"subjectAltName=IP:{LAB_HOST}",
)
"""``openssl`` arguments making the certificate (then ``-keyout KEY -out CERT``)."""


def lab_tls_ca_file(rootfs: Path) -> Path:
    """The lab's certificate as seen from outside the chroot: the CA file clients trust."""
    return rootfs / CERT_PATH


def ensure_lab_certificate(rootfs: Path) -> Path:
    """Make the lab's certificate and key unless they exist; return the certificate's path.

    Both are written beside each other under temporary names and renamed key first, so
    an existing certificate always has its key.
    """
    cert, key = rootfs / CERT_PATH, rootfs / KEY_PATH
    if cert.exists() and key.exists():
        return cert
    if shutil.which("openssl") is None:
        raise LabError(
            "openssl not found on PATH (it makes the lab PBX's TLS certificate): "
            "install it with `apt-get install openssl`"
        )
    cert.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cert.parent) as scratch:
        new_cert, new_key = Path(scratch) / cert.name, Path(scratch) / key.name
        done = subprocess.run(
            ["openssl", *OPENSSL_ARGS, "-keyout", str(new_key), "-out", str(new_cert)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise LabError(
                f"making the lab PBX's TLS certificate {cert} failed "
                f"(openssl exit {done.returncode}: {detail}): check that openssl works"
            )
        new_key.chmod(0o600)
        new_key.replace(key)
        new_cert.replace(cert)
    return cert
