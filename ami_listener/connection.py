"""The one module that touches the AMI socket: connect, log in, send actions, receive events.

Data flows one way: socket bytes -> `FrameBuffer` -> `parse_frame` -> either
the future of the action that asked (matched by ActionID, list responses
collected up to their ``...Complete`` event) or the `on_event` callback.
A raising `on_event` is logged and counted, never allowed to kill the reader.
Frames skipped as garbage (oversize, or neither event nor response) are counted
in `AmiConnection.skipped`, which logs a summary at most once a minute.

Errors a user can fix come out as one line: `PbxUnreachable` when nothing
answers or the peer is not an AMI, `AmiAuthFailed` when the login is refused.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from ami_listener.frames import NOT_A_MESSAGE, FrameBuffer, SkippedFrames
from ami_listener.message import AmiMessage, encode_action, parse_frame
from ringtest.core.errors import AmiAuthFailed, PbxUnreachable

log = logging.getLogger(__name__)

EventHandler = Callable[[AmiMessage], None]
BytesHandler = Callable[[bytes], None]


@dataclass
class ActionReply:
    """The PBX's answer to one action: its Response frame and, for list actions, the events."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the PBX answered ``Response: Success`` (or ``Follows``)."""
        return self.response.response in ("Success", "Follows")


@dataclass
class _Pending:
    future: asyncio.Future[ActionReply]
    reply: ActionReply | None = None


class _AmiProtocol(asyncio.Protocol):
    """asyncio protocol: feeds received bytes through the frame buffer to the connection."""

    def __init__(self, connection: AmiConnection) -> None:
        self.connection = connection
        self.frames = FrameBuffer(skipped=connection.skipped)
        self.banner_seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.connection.bytes_received += len(data)
        if self.connection.on_bytes is not None:
            self.connection.on_bytes(data)
        dispatch = self.connection.dispatch
        for frame in self.frames.feed(data):
            dispatch(parse_frame(frame))
        if self.frames.banner is not None and not self.banner_seen.done():
            self.banner_seen.set_result(self.frames.banner)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        self.connection.fail_pending(exc)


class AmiConnection:
    """One logged-in manager session with an Asterisk PBX.

    address: ``host:port`` for messages.
    on_event: called with every event not claimed by an action (the tracker's feed).
    on_bytes: called with every chunk as read (a recorder), before it is parsed.
    tls: the TLS context when manager.conf serves AMI over TLS (``tlsenable``), else None.
    bytes_received: total bytes read, the liveness signal for a keepalive watchdog.
    handler_errors: how many times `on_event` raised (each one logged).
    oversize_frames: frames skipped for exceeding the frame size limit (`FrameBuffer`).
    garbage_frames: frames skipped for being no AMI message (neither event nor response).
    skipped: both kinds, by kind, with the rate-limited log line (`SkippedFrames`).
    """

    def __init__(
        self,
        host: str,
        port: int,
        on_event: EventHandler | None = None,
        on_bytes: BytesHandler | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.address = f"{host}:{port}"
        self.on_event = on_event
        self.on_bytes = on_bytes
        self.bytes_received = 0
        self.handler_errors = 0
        self.skipped = SkippedFrames(f"AMI {self.address}")
        self.banner = ""
        self._transport: asyncio.Transport | None = None
        self._protocol: _AmiProtocol | None = None
        self._pending: dict[str, _Pending] = {}
        self._action_ids = itertools.count(1)

    async def connect(self, timeout_seconds: float = 5.0) -> str:
        """Open the TCP connection and wait for the AMI banner; return the banner."""
        loop = asyncio.get_running_loop()
        try:
            self._transport, self._protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _AmiProtocol(self), self.host, self.port, ssl=self.tls
                ),
                timeout_seconds,
            )
            self.banner = await asyncio.wait_for(self._protocol.banner_seen, timeout_seconds)
        except ssl.SSLError as error:
            self.close()
            raise PbxUnreachable(
                f"TLS with AMI at {self.address} failed ({error.reason or error}): check that "
                "manager.conf has tlsenable = yes and that this machine trusts the PBX's "
                "certificate (SSL_CERT_FILE)"
            ) from None
        except (TimeoutError, OSError) as error:
            self.close()
            reason = _connect_failure(error)
            raise PbxUnreachable(
                f"AMI at {self.address} is not answering ({reason}): check that Asterisk is "
                "running and manager.conf has enabled = yes on this address and port"
            ) from None
        if not self.banner.startswith("Asterisk Call Manager/"):
            self.close()
            raise PbxUnreachable(
                f"{self.address} did not greet as an Asterisk Manager Interface: "
                "check ami.host and ami.port point at manager.conf's bindaddr and port"
            )
        return self.banner

    async def login(self, user: str, secret: str, timeout_seconds: float = 5.0) -> None:
        """Log in with ``Action: Login``; raise `AmiAuthFailed` naming the user if refused."""
        reply = await self.action("Login", timeout_seconds, Username=user, Secret=secret)
        if not reply.ok:
            raise AmiAuthFailed(
                f"AMI login to {self.address} refused for user '{user}': "
                "check the user and secret in manager.conf"
            )

    async def action(self, name: str, timeout_seconds: float = 5.0, **fields: str) -> ActionReply:
        """Send one action and wait for its reply (list actions: up to ``...Complete``)."""
        if self._transport is None or self._transport.is_closing():
            raise PbxUnreachable(f"AMI link to {self.address} is closed: reconnect first")
        action_id = f"ringtest-{next(self._action_ids)}"
        pending = _Pending(asyncio.get_running_loop().create_future())
        self._pending[action_id] = pending
        self._transport.write(encode_action(name, ActionID=action_id, **fields))
        try:
            return await asyncio.wait_for(pending.future, timeout_seconds)
        except TimeoutError:
            raise PbxUnreachable(
                f"AMI at {self.address} did not answer {name} within {timeout_seconds:g} s: "
                "check the PBX is not overloaded"
            ) from None
        finally:
            self._pending.pop(action_id, None)

    def dispatch(self, message: AmiMessage) -> None:
        """Route one message to the action waiting for it, or to `on_event`."""
        if self._pending:
            pending = self._pending.get(message.action_id or "")
            if pending is not None and self._resolve(pending, message):
                return
        if message.event is None:
            if message.response is None:
                self.skipped.skipped(NOT_A_MESSAGE)
            return
        if self.on_event is not None:
            try:
                self.on_event(message)
            except Exception:
                self.handler_errors += 1
                log.exception("event handler failed on %s event", message.event)

    @staticmethod
    def _resolve(pending: _Pending, message: AmiMessage) -> bool:
        """Feed a message to its action; True when the message belonged to it."""
        if pending.future.done():
            return False
        if message.response is not None:
            pending.reply = ActionReply(message)
            if message.get("EventList", "").lower() != "start":
                pending.future.set_result(pending.reply)
            return True
        if pending.reply is None:
            return False
        if message.get("EventList", "").lower() == "complete":
            pending.future.set_result(pending.reply)
        else:
            pending.reply.events.append(message)
        return True

    def fail_pending(self, exc: Exception | None) -> None:
        """The link dropped: every waiting action learns it at once."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(
                    PbxUnreachable(f"AMI link to {self.address} dropped: {exc or 'closed by PBX'}")
                )

    @property
    def oversize_frames(self) -> int:
        return self._protocol.frames.oversize_frames if self._protocol is not None else 0

    @property
    def garbage_frames(self) -> int:
        return self.skipped.by_kind[NOT_A_MESSAGE]

    @property
    def lost(self) -> asyncio.Future[None]:
        """Resolves when the TCP connection is lost."""
        assert self._protocol is not None, "connect() first"
        return self._protocol.lost

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._transport is not None:
            self._transport.close()


def _connect_failure(error: OSError) -> str:
    """A short reason for a failed connect: ``connection refused``, ``timed out``..."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if error.errno is not None:
        return os.strerror(error.errno).lower()
    return str(error)
