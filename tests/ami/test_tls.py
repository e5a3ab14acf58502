"""AMI over TLS (manager.conf ``tlsenable``): a trusted PBX logs in, an untrusted one is one line.

The PBX side is the scriptable fake AMI wrapped in TLS with a self-signed
certificate made by `openssl` for this test.
"""

import asyncio
import ssl
import subprocess

import pytest

from ami_listener.connection import AmiConnection
from ringtest.core.errors import PbxUnreachable
from tests.ami.fake_ami import FakeAmi


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate and key for 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "pbx.crt", directory / "pbx.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate) -> ssl.SSLContext:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def log_in_over_tls(certificate, client: ssl.SSLContext):
    async def scenario():
        fake = await FakeAmi(tls=server_context(certificate)).start()
        connection = AmiConnection("127.0.0.1", fake.port, tls=client)
        try:
            banner = await connection.connect()
            await connection.login("listener", "right")
            return banner, fake.port
        finally:
            connection.close()
            await fake.stop()

    return asyncio.run(scenario())


def test_pbx_whose_certificate_is_trusted_is_reached_over_tls(certificate):
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    banner, _ = log_in_over_tls(certificate, trusting)
    assert banner == "Asterisk Call Manager/11.0.0"


def test_untrusted_certificate_is_one_line_naming_the_pbx_and_the_fix(certificate):
    with pytest.raises(PbxUnreachable) as refused:
        log_in_over_tls(certificate, ssl.create_default_context())
    assert str(refused.value).startswith("TLS with AMI at 127.0.0.1:")
    assert str(refused.value).endswith(
        "failed (CERTIFICATE_VERIFY_FAILED): check that manager.conf has tlsenable = yes "
        "and that this machine trusts the PBX's certificate (SSL_CERT_FILE)"
    )
