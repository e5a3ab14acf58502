"""The watch's stream client against servers that misbehave (fault injection on a raw socket)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from ringtest.web.event_client import (
    LinkLost,
    LiveViewUnreachable,
    Snapshot,
    StreamLink,
    follow,
    read_snapshots,
)

ONE_SNAPSHOT = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    b'retry: 250\n\n: a comment line\n\nevent: other\ndata: {"x": 0}\n\n'
    b'event: snapshot\ndata: {"now": "2026-12-04T10:30:00+00:00"}\n\n'
)
"""A server's whole answer: the retry delay, a comment, another event, one snapshot."""


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def url_of(server: socket.socket) -> str:
    return f"http://127.0.0.1:{server.getsockname()[1]}/"


def answer_once(server: socket.socket, answer: bytes | None) -> threading.Thread:
    """Accept one connection, read its request, send `answer` and close (None: say nothing
    and hold the link until the client leaves)."""

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            if answer is None:
                connection.recv(1)
            else:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_only_snapshots_are_read_and_the_server_s_retry_delay_is_kept(listening):
    answer_once(listening, ONE_SNAPSHOT)
    link = StreamLink(url_of(listening))
    assert list(read_snapshots(link)) == [Snapshot({"now": "2026-12-04T10:30:00+00:00"})]
    assert link.retry_seconds == 0.25


def test_a_silent_server_counts_as_lost_after_the_stall_time(listening):
    answer_once(listening, None)
    link = StreamLink(url_of(listening), stall_seconds=0.2)
    with pytest.raises(LiveViewUnreachable) as lost:
        list(read_snapshots(link))
    assert lost.value.reason == "no answer in 0.2 s"


def test_after_the_first_snapshot_a_lost_link_is_reported_and_retried(listening):
    url = url_of(listening)
    answer_once(listening, ONE_SNAPSHOT)
    slept: list[float] = []
    updates = follow(StreamLink(url), sleep=slept.append)
    assert isinstance(next(updates), Snapshot)
    ended = next(updates)
    assert isinstance(ended, LinkLost) and ended.reason == "the server ended the stream"
    listening.close()
    refused = next(updates)
    assert (refused.reason, refused.lost_at_seconds) == (
        "connection refused",
        ended.lost_at_seconds,  # lost since the first loss, not since the last attempt
    )
    assert slept == [0.25]


def test_the_first_connection_failing_is_raised_not_retried(listening):
    url = url_of(listening)
    listening.close()
    with pytest.raises(LiveViewUnreachable) as refused:
        next(follow(StreamLink(url), sleep=lambda seconds: None))
    assert refused.value.reason == "connection refused"
