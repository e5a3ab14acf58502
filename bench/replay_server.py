"""A loopback AMI server for the replay benchmark: it plays one recorded stream per client.

It runs in a child process (so its sending costs none of the reader's CPU) and
listens on 127.0.0.1 port 0. Per connection it speaks just enough AMI for every
reader under test: the banner, a ``Response: Success`` to ``Action: Login``
(echoing the ActionID), and, when the login user is `LISTENER_USER`, an empty
``CoreShowChannels`` list and a ``CoreStatus`` answer, as Asterisk gives them
(ringtest's listener resyncs, then asks when the PBX started, after each login). Then
it sends the whole stream at once, half-closes and waits for the client to
close. Not for tests of behaviour: tests use the real lab PBX or
``tests/ami/fake_ami.py``.
"""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from bench.streams import BANNER

LISTENER_USER = b"listener"
"""The login user after which the server also answers one CoreShowChannels and one CoreStatus."""

_END = b"\r\n\r\n"


@contextmanager
def serving(stream_body: bytes) -> Iterator[int]:
    """Serve `stream_body` (frames after the banner) to every client; yield the port."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    context = multiprocessing.get_context("fork")
    server = context.Process(target=_serve, args=(listening, stream_body), daemon=True)
    server.start()
    listening.close()
    try:
        yield port
    finally:
        server.terminate()
        server.join()


def _serve(listening: socket.socket, stream_body: bytes) -> None:
    while True:
        connection, _ = listening.accept()
        with connection:
            _session(connection, stream_body)


def _session(connection: socket.socket, stream_body: bytes) -> None:
    answer_login(connection)
    connection.sendall(stream_body)
    connection.shutdown(socket.SHUT_WR)
    while connection.recv(65536):
        pass


def answer_login(connection: socket.socket) -> None:
    """Speak to a new client as Asterisk would until its stream may begin: the banner, the
    Login reply, and for `LISTENER_USER` its resync and CoreStatus."""
    connection.sendall(BANNER)
    buffered = b""
    login, buffered = _next_frame(connection, buffered)
    action_id = _header(login, b"ActionID")
    connection.sendall(
        b"Response: Success\r\nActionID: "
        + action_id
        + b"\r\nMessage: Authentication accepted"
        + _END
    )
    if _header(login, b"Username") == LISTENER_USER:
        resync, buffered = _next_frame(connection, buffered)
        resync_id = _header(resync, b"ActionID")
        connection.sendall(
            b"Response: Success\r\nActionID: " + resync_id + b"\r\nEventList: start\r\n"
            b"Message: Channels will follow"
            + _END
            + b"Event: CoreShowChannelsComplete\r\nActionID: "
            + resync_id
            + b"\r\nEventList: Complete\r\nListItems: 0"
            + _END
        )
        status, buffered = _next_frame(connection, buffered)
        connection.sendall(
            b"Response: Success\r\nActionID: "
            + _header(status, b"ActionID")
            + b"\r\nCoreStartupDate: 2026-11-23\r\nCoreStartupTime: 04:00:00"
            + _END
        )


def _next_frame(connection: socket.socket, buffered: bytes) -> tuple[bytes, bytes]:
    while _END not in buffered:
        chunk = connection.recv(65536)
        if not chunk:
            return b"", b""
        buffered += chunk
    frame, _, rest = buffered.partition(_END)
    return frame, rest


def _header(frame: bytes, name: bytes) -> bytes:
    for line in frame.split(b"\r\n"):
        key, _, value = line.partition(b": ")
        if key.lower() == name.lower():
            return value
    return b""
