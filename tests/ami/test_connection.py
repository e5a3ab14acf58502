"""Logging in to the lab PBX's real AMI, and the one-line errors when that fails."""

import asyncio
import socket

import pytest

from ami_listener.connection import AmiConnection
from ringtest.core.errors import AmiAuthFailed, PbxUnreachable
from ringtest.lab.accounts import AMI_LISTENER, AMI_PORT, LAB_HOST

pytestmark = pytest.mark.lab


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def log_in(user: str, secret: str, port: int = AMI_PORT) -> AmiConnection:
    connection = AmiConnection(LAB_HOST, port)
    await connection.connect()
    try:
        await connection.login(user, secret)
    except BaseException:
        connection.close()
        raise
    return connection


def test_read_only_listener_logs_in_and_gets_pong(lab):
    async def scenario():
        connection = await log_in(AMI_LISTENER.username, AMI_LISTENER.secret)
        try:
            reply = await connection.action("Ping")
            return connection.banner, reply
        finally:
            connection.close()

    banner, pong = asyncio.run(scenario())
    assert banner.startswith("Asterisk Call Manager/")
    assert pong.ok and pong.response.get("Ping") == "Pong"


def test_read_only_listener_can_list_channels(lab):
    async def scenario():
        connection = await log_in(AMI_LISTENER.username, AMI_LISTENER.secret)
        try:
            return await connection.action("CoreShowChannels")
        finally:
            connection.close()

    reply = asyncio.run(scenario())
    assert reply.ok
    assert all(event.event == "CoreShowChannel" for event in reply.events)


def test_wrong_secret_is_refused_with_one_line_naming_user_and_fix(lab):
    with pytest.raises(AmiAuthFailed) as refused:
        asyncio.run(log_in(AMI_LISTENER.username, "not-the-secret"))
    assert str(refused.value) == (
        "AMI login to 127.0.0.1:5038 refused for user 'listener': "
        "check the user and secret in manager.conf"
    )


def test_nothing_listening_is_one_line_naming_the_address():
    port = free_tcp_port()
    with pytest.raises(PbxUnreachable) as unreachable:
        asyncio.run(log_in("listener", "x", port=port))
    assert str(unreachable.value) == (
        f"AMI at 127.0.0.1:{port} is not answering (connection refused): "
        "check that Asterisk is running and manager.conf has "
        "enabled = yes on this address and port"
    )
