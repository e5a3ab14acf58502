"""A scriptable stand-in for Asterisk's AMI, for fault injection only.

It speaks just enough of the protocol (banner, Login, Ping, CoreShowChannels,
CoreStatus) for the listener to connect, and lets a test push recorded event
bytes, stop answering (a half-open link), drop the connection or restart. The real-Asterisk tests
are in test_connection.py and the lab tests; this one exists to break things
on purpose.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

from ami_listener.frames import FrameBuffer
from ami_listener.message import parse_frame

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@dataclass
class FakeAmi:
    """One fake PBX on 127.0.0.1:<port> (`port` 0: any free port). `logins` counts
    successful logins."""

    secret: str = "right"
    answers_pings: bool = True
    logins: int = 0
    pings: int = 0
    port: int = 0
    started: str = "2026-11-23 08:00:00"
    tls: ssl.SSLContext | None = None
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def start(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.drop_all()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def push(self, stream: bytes) -> None:
        """Send raw bytes (recorded events) to every connected client."""
        for writer in self._writers:
            writer.write(stream)

    def drop_all(self) -> None:
        """Close every client connection, as an Asterisk restart would."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def restart(self, started: str) -> None:
        """Drop every client and come back as a PBX that started at `started` (local)."""
        self.drop_all()
        self.started = started

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        frames = FrameBuffer()
        frames.banner = ""
        while data := await reader.read(4096):
            for frame in frames.feed(data):
                self._answer(parse_frame(frame), writer)

    def _answer(self, action, writer: asyncio.StreamWriter) -> None:
        action_id = action.get("ActionID", "")
        name = action.get("Action", "")
        if name == "Login":
            ok = action.get("Secret") == self.secret
            if ok:
                self.logins += 1
                self._writers.append(writer)
            status = (
                "Success\r\nMessage: Authentication accepted"
                if ok
                else ("Error\r\nMessage: Authentication failed")
            )
            writer.write(f"Response: {status}\r\nActionID: {action_id}\r\n\r\n".encode())
        elif name == "Ping":
            self.pings += 1
            if self.answers_pings:
                writer.write(
                    f"Response: Success\r\nActionID: {action_id}\r\nPing: Pong\r\n\r\n".encode()
                )
        elif name == "CoreStatus":
            date, time = self.started.split()
            writer.write(
                f"Response: Success\r\nActionID: {action_id}\r\nCoreStartupDate: {date}\r\n"
                f"CoreStartupTime: {time}\r\n\r\n".encode()
            )
        elif name == "CoreShowChannels":
            writer.write(
                f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n\r\n"
                f"Event: CoreShowChannelsComplete\r\nActionID: {action_id}\r\n"
                "EventList: Complete\r\nListItems: 0\r\n\r\n".encode()
            )
