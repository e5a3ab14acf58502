"""A client of a running live view's event stream: the snapshots `ringtest watch` shows.

`read_snapshots` opens one connection to the server's ``/events`` (Server-Sent
Events, `ringtest.web.sse`) and yields each ``snapshot`` message's data, the
whole live state, until the server ends the stream. Only the lines this
server sends are understood: ``retry:`` (how soon to reconnect), ``event:``,
``data:`` and blank lines ending a message; comment lines are skipped.

`read_health` asks ``/api/health`` once: the listener's link and last event age.

`follow` keeps following across server restarts: once the first snapshot
arrived, a lost link is reported as `LinkLost` and retried every `retry`
interval the server asked for, for as long as it takes. The first connection
failing is an error (`LiveViewUnreachable`, `LiveViewRefused`): nothing is
running there, or the token is wrong, and the user is told how to fix it.

A stream silent for `STALL_SECONDS` counts as lost: the server pushes at least
every `TICK_SECONDS` while a client is connected.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

from ringtest.core.errors import RingtestError
from ringtest.web.sse import RECONNECT_MILLISECONDS, TICK_SECONDS

STALL_SECONDS = 3 * TICK_SECONDS
"""seconds without a byte from the server after which the link counts as lost."""

FIX = "start `ringtest run` or `ringtest listen` (web.enabled = true), or pass --url"
"""How to get a live view to watch, named in every unreachable line."""


class LiveViewUnreachable(RingtestError):
    """Nothing serves the live view at the URL (or it stopped answering).

    reason: the short cause shown on screen while reconnecting.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the live view at {url} is not reachable ({reason}): {FIX}")


class LiveViewRefused(LiveViewUnreachable):
    """The server refused the token (or its absence)."""

    def __init__(self, url: str) -> None:
        self.reason = "token refused"
        RingtestError.__init__(
            self,
            f"the live view at {url} refused the token: set web.token (env "
            "RINGTEST_WEB__TOKEN) to the server's",
        )


@dataclass(frozen=True)
class Snapshot:
    """One whole state of the live view, as the server's views made it (JSON values)."""

    data: dict[str, object]


@dataclass(frozen=True)
class LinkLost:
    """The stream was lost `lost_at_seconds` (monotonic) for `reason`; retrying."""

    reason: str
    lost_at_seconds: float = field(default_factory=time.monotonic)


@dataclass
class StreamLink:
    """One connection's settings. retry_seconds: how soon to reconnect (the server's
    ``retry:`` once it said)."""

    url: str
    token: str | None = None
    retry_seconds: float = RECONNECT_MILLISECONDS / 1000
    stall_seconds: float = STALL_SECONDS


def read_snapshots(link: StreamLink) -> Iterator[Snapshot]:
    """Snapshots from one connection to the live view at `link.url`, until the server ends
    the stream; `LiveViewUnreachable` when it cannot connect or goes silent,
    `LiveViewRefused` on a refused token."""
    connection, response = _get(link, "/events", "text/event-stream")
    try:
        yield from _messages(response, link)
    except (OSError, http.client.HTTPException) as error:
        raise LiveViewUnreachable(link.url, _reason(error, link)) from error
    finally:
        connection.close()


def read_health(link: StreamLink) -> dict[str, object]:
    """The listener's health as the live view at `link.url` serves it (``/api/health``);
    `LiveViewUnreachable` or `LiveViewRefused` as for `read_snapshots`."""
    connection, response = _get(link, "/api/health", "application/json")
    try:
        return orjson.loads(response.read())
    except (OSError, http.client.HTTPException, orjson.JSONDecodeError) as error:
        raise LiveViewUnreachable(link.url, _reason(error, link)) from error
    finally:
        connection.close()


def _get(
    link: StreamLink, path: str, accept: str
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """GET `path` under `link.url` with its token; the open connection and its 200 response
    (the caller closes the connection). `LiveViewUnreachable` or `LiveViewRefused`."""
    parts = urlsplit(link.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LiveViewUnreachable(link.url, "not an http:// or https:// address")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=link.stall_seconds)
    headers = {"Accept": accept}
    if link.token is not None:
        headers["Authorization"] = f"Bearer {link.token}"
    try:
        connection.request("GET", parts.path.rstrip("/") + path, headers=headers)
        response = connection.getresponse()
        if response.status == 401:
            raise LiveViewRefused(link.url)
        if response.status != 200:
            raise LiveViewUnreachable(link.url, f"HTTP {response.status}, not ringtest's live view")
        return connection, response
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        raise LiveViewUnreachable(link.url, _reason(error, link)) from error
    except (LiveViewRefused, LiveViewUnreachable):
        connection.close()
        raise


def _messages(response: http.client.HTTPResponse, link: StreamLink) -> Iterator[Snapshot]:
    event, data = "message", b""
    while line := response.readline():
        line = line.rstrip(b"\r\n")
        if not line:
            if event == "snapshot" and data:
                yield Snapshot(orjson.loads(data))
            event, data = "message", b""
        elif line.startswith(b"retry:") and line[6:].strip().isdigit():
            link.retry_seconds = int(line[6:].strip()) / 1000
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data += line[5:].removeprefix(b" ")


def _reason(error: Exception, link: StreamLink) -> str:
    """A short cause: 'connection refused', 'no answer in 15 s', ..."""
    if isinstance(error, TimeoutError):
        return f"no answer in {link.stall_seconds:g} s"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return type(error).__name__


def follow(
    link: StreamLink, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Snapshot | LinkLost]:
    """Snapshots for as long as the caller reads, reconnecting after a lost link.

    The first connection's failure is raised; later ones yield one `LinkLost` per
    attempt (the first loss's time kept) and retry after `link.retry_seconds`."""
    connected = False
    lost: LinkLost | None = None
    while True:
        try:
            for snapshot in read_snapshots(link):
                connected, lost = True, None
                yield snapshot
            reason = "the server ended the stream"
        except LiveViewUnreachable as error:
            if not connected:
                raise
            reason = error.reason
        lost = LinkLost(reason) if lost is None else LinkLost(reason, lost.lost_at_seconds)
        yield lost
        sleep(link.retry_seconds)
