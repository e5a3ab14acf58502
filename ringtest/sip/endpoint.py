"""The one pjsua2 SIP user agent of this process, kept on its own thread.

Theory of operation: pjsua2 is a process-wide singleton and is not safe to drive
from several Python threads, so `SipEndpoint` creates, polls and destroys it on
one dedicated thread. That thread loops: run queued commands, run due timers,
then ``libHandleEvents(poll_ms)``, which returns as soon as a packet arrives, so
SIP callbacks (and the monotonic timestamps taken inside them) run promptly.
Other threads never touch pjsua2 objects: they `submit()` a callable and wait on
the `concurrent.futures.Future` it returns. Code already on the endpoint thread
(callbacks) uses `call_later()` for timers.

Every pjsua2 Call and Account object is owned here and dropped before
``libDestroy``, as pjsua2 requires. pjsip's own log goes to the
``ringtest.sip.pjsip`` logger.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, TypeVar

import pjsua2 as pj

from ringtest.core.errors import SipError
from ringtest.sip.accounts import PjsuaAccount, SipAccount, with_transport
from ringtest.sip.pjsip_log import PjsipLogWriter, process_stdout_silenced
from ringtest.sip.transports import Transports

logger = logging.getLogger(__name__)

T = TypeVar("T")

CALLS_PER_PROCESS = 4
"""The pjsua2-python wheel is built with PJSUA_MAX_CALLS=4: libInit silently lowers
uaConfig.maxCalls to it. Use `ringtest.sip.pool.RingTestPool` for more at once."""

ACCOUNTS_PER_PROCESS = 8
"""The wheel's PJSUA_MAX_ACC: pjsua aborts the whole process on a ninth account."""

SHUTDOWN_GRACE_SECONDS = 2.0
"""seconds: how long stop() lets calls hang up cleanly before destroying the library."""


class Timer:
    """A pending `SipEndpoint.call_later` callback; `cancel()` drops it (and what it holds)."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None


class SipEndpoint:
    """The pjsua2 Endpoint on a dedicated thread, driven through a command queue.

    bind_address: the IP the SIP and RTP sockets bind to (free ports are chosen).
    poll_ms: int, milliseconds each ``libHandleEvents`` may block; the worst-case
    delay before a queued command or timer runs (SIP packets wake it at once).
    `call_slots` counts free pjsua call slots (`CALLS_PER_PROCESS`): callers take one
    before dialling and it is given back when the call is dropped. `sip_ports` maps
    "udp" and "tcp" to their local ports; a TLS transport opens when the first account
    needing its CA file is added (`ringtest.sip.transports`).
    """

    _instance_lock = threading.Lock()
    _running_instance: SipEndpoint | None = None

    def __init__(self, *, bind_address: str = "127.0.0.1", poll_ms: int = 5):
        self.bind_address = bind_address
        self.poll_ms = poll_ms
        self.call_slots = threading.BoundedSemaphore(CALLS_PER_PROCESS)
        self.sip_ports: dict[str, int] = {}
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._timers: list[tuple[float, int, Timer]] = []
        self._timer_order = itertools.count()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._library: pj.Endpoint | None = None
        self._log_writer: PjsipLogWriter | None = None
        self._transports: Transports | None = None
        self._accounts: dict[str, PjsuaAccount] = {}
        self._calls: set[pj.Call] = set()

    def __enter__(self) -> SipEndpoint:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Create the library on a new thread and wait until it is ready."""
        with SipEndpoint._instance_lock:
            if SipEndpoint._running_instance is not None:
                raise SipError(
                    "a SIP endpoint is already running in this process: reuse it or stop it first"
                )
            SipEndpoint._running_instance = self
        ready: Future[None] = Future()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="sip-endpoint", daemon=True
        )
        self._thread.start()
        try:
            ready.result()
        except BaseException:
            self._thread.join()
            self._release_instance()
            raise

    def stop(self) -> None:
        """Hang up every call, drop calls and accounts, destroy the library, join the thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join()
        self._thread = None
        self._release_instance()

    @classmethod
    def running(cls) -> SipEndpoint | None:
        """This process's started endpoint, None when none is running."""
        with cls._instance_lock:
            return cls._running_instance

    def has_account(self, name: str) -> bool:
        """Whether an account called `name` is set up (any thread)."""
        return self.submit(lambda: name in self._accounts).result()

    def remove_account(self, name: str) -> None:
        """Unregister and drop the account called `name`, if set up (any thread)."""
        self.submit(lambda: self._drop_account(name)).result()

    def submit(self, command: Callable[[], T]) -> Future[T]:
        """Run `command` on the endpoint thread; its result or exception lands in the future."""
        if self._thread is None or self._stopping.is_set():
            raise SipError("the SIP endpoint is not running: start it before placing calls")
        future: Future[T] = Future()
        self._commands.put((command, future))
        return future

    def call_later(self, delay_seconds: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` on the endpoint thread after delay_seconds (float, seconds).

        Only callable from the endpoint thread (inside a command or a callback).
        """
        self._assert_on_thread()
        timer = Timer(callback)
        deadline = time.monotonic() + delay_seconds
        heapq.heappush(self._timers, (deadline, next(self._timer_order), timer))
        return timer

    def add_account(self, account: SipAccount, *, register_timeout_seconds: float = 5.0) -> None:
        """Create `account`; when it has a registrar, register and wait for the result.

        register_timeout_seconds: float, seconds to wait for the registrar to answer.
        Raises SipError with the one-line reason when registration fails.
        """
        registered: Future[None] = Future()
        self.submit(lambda: self._create_account(account, registered)).result()
        try:
            registered.result(timeout=register_timeout_seconds)
        except FutureTimeout:
            self.submit(lambda: self._drop_account(account.name)).result()
            raise SipError(
                f"SIP registration of '{account.name}' at {account.registrar_uri} got no answer "
                f"within {register_timeout_seconds:g} s: "
                "check the registrar address and that the PBX is running"
            ) from None
        except SipError:
            self.submit(lambda: self._drop_account(account.name)).result()
            raise

    def account(self, name: str) -> PjsuaAccount:
        """The pjsua2 account called `name` (endpoint thread only)."""
        self._assert_on_thread()
        try:
            return self._accounts[name]
        except KeyError:
            raise SipError(
                f"SIP account '{name}' is not set up: add it under [[sip.accounts]] in the config"
            ) from None

    def is_sip_uri(self, uri: str) -> bool:
        """Whether pjsip accepts `uri` as a SIP URI (endpoint thread only)."""
        self._assert_on_thread()
        return self._library.utilVerifySipUri(uri) == pj.PJ_SUCCESS

    def keep_call(self, call: pj.Call) -> None:
        """Own `call` until `release_call`; pjsua2 needs the Python object alive meanwhile."""
        self._assert_on_thread()
        self._calls.add(call)

    def release_call(self, call: pj.Call, *, holds_slot: bool = True) -> None:
        """Drop a disconnected call and free its slot on the next loop turn.

        holds_slot: the call took one of `call_slots` (outgoing calls do; inbound
        calls, answered on this thread, cannot wait for one and do not).

        Not inside its own callback (pjsua frees the slot after the callback returns),
        and before any queued command can dial: a pjsua2 Call destroyed after its slot
        was reused would detach, and even hang up, the new call in that slot. So the
        endpoint must hold the last reference to `call`.
        """

        def drop() -> None:
            self._calls.discard(call)
            if holds_slot:
                self.call_slots.release()

        self.call_later(0.0, drop)

    def _assert_on_thread(self) -> None:
        if threading.current_thread() is not self._thread:
            raise RuntimeError("this SipEndpoint method runs on the endpoint thread only")

    def _release_instance(self) -> None:
        with SipEndpoint._instance_lock:
            SipEndpoint._running_instance = None

    def _run(self, ready: Future[None]) -> None:
        try:
            self._create_library()
        except Exception as error:  # handed to start(), which would otherwise wait forever
            self._destroy_library()
            reason = error.reason if isinstance(error, pj.Error) else str(error)
            ready.set_exception(
                SipError(
                    f"SIP endpoint could not start on {self.bind_address}: {reason}: "
                    "check the bind address"
                )
            )
            return
        ready.set_result(None)
        while not self._stopping.is_set():
            self._run_due_timers()  # first: calls dropped before a command reuses their slot
            self._run_commands()
            self._library.libHandleEvents(self.poll_ms)
        self._hang_up_all()
        self._refuse_queued_commands()
        self._destroy_library()

    def _create_library(self) -> None:
        self._library = pj.Endpoint()
        with process_stdout_silenced():
            self._library.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.uaConfig.maxCalls = CALLS_PER_PROCESS
        config.uaConfig.userAgent = "ringtest"
        self._log_writer = PjsipLogWriter()
        self._log_writer.install(config.logConfig)
        self._library.libInit(config)
        self._library.audDevManager().setNullDev()
        self._transports = Transports(self._library, self.bind_address)
        self.sip_ports = self._transports.ports
        self._library.libStart()
        logger.info("SIP endpoint listening on %s ports %s", self.bind_address, self.sip_ports)

    def _run_commands(self) -> None:
        while True:
            try:
                command, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(command())
            except BaseException as error:  # handed to the waiting thread
                future.set_exception(error)

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            callback, timer.callback = timer.callback, None
            if callback is None:
                continue
            try:
                callback()
            except Exception:
                logger.exception("SIP endpoint timer %r failed", callback)

    def _create_account(self, settings: SipAccount, registered: Future[None]) -> None:
        if settings.name in self._accounts:
            raise SipError(f"SIP account '{settings.name}' is already set up: give it another name")
        if len(self._accounts) >= ACCOUNTS_PER_PROCESS:
            raise SipError(
                f"SIP account '{settings.name}' would be this process's "
                f"{ACCOUNTS_PER_PROCESS + 1}th (pjsua2 allows {ACCOUNTS_PER_PROCESS}): "
                "remove one first or use fewer [[sip.accounts]]"
            )
        config = pj.AccountConfig()
        config.idUri = settings.id_uri
        config.sipConfig.transportId = self._transports.transport_for(settings)
        config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", "*", settings.user, 0, settings.password)
        )
        if settings.outbound_proxy is not None:
            config.sipConfig.proxies.append(
                with_transport(settings.outbound_proxy, settings.transport)
            )
        config.mediaConfig.transportConfig.boundAddress = self.bind_address
        config.mediaConfig.transportConfig.port = 0
        config.mediaConfig.lockCodecEnabled = False  # no re-INVITE right after an answer
        if settings.registrar_uri is not None:
            config.regConfig.registrarUri = settings.registrar_uri
            config.regConfig.registerOnAdd = True
        else:
            config.regConfig.registerOnAdd = False
            registered.set_result(None)
        account = PjsuaAccount(settings, registered, self._accounts.values)
        try:
            account.create(config)
        except pj.Error as error:
            raise SipError(
                f"SIP account '{settings.name}' could not be created: {error.reason}: "
                "check its user, domain and registrar"
            ) from None
        self._accounts[settings.name] = account

    def _drop_account(self, name: str) -> None:
        account = self._accounts.pop(name, None)
        if account is not None:
            account.shutdown()

    def _hang_up_all(self) -> None:
        if not self._calls:
            return
        self._library.hangupAllCalls()
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        while self._calls and time.monotonic() < deadline:
            self._run_due_timers()
            self._library.libHandleEvents(self.poll_ms)
        if self._calls:
            logger.warning("SIP endpoint stopped with %d calls still up", len(self._calls))

    def _refuse_queued_commands(self) -> None:
        while True:
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            future.set_exception(SipError("the SIP endpoint stopped before running the command"))

    def _destroy_library(self) -> None:
        self._calls.clear()
        self._timers.clear()
        gc.collect()  # a pjsua2 Call destroyed after libDestroy aborts the process
        for account in self._accounts.values():
            account.shutdown()
        self._accounts.clear()
        self._transports = None
        if self._library is not None:
            self._library.libDestroy()
            self._library = None
        self._log_writer = None


@contextmanager
def endpoint_with(accounts: Sequence[SipAccount]) -> Iterator[SipEndpoint]:
    """This process's running endpoint, or a new one stopped on leaving, with `accounts` set up.

    The one way code that places or answers calls gets its endpoint, so services
    hosted in one process share one (`SipEndpoint.start` refuses a second). An
    account already set up is reused; accounts added to a running endpoint stay.
    """
    running = SipEndpoint.running()
    endpoint = running if running is not None else SipEndpoint()
    if running is None:
        endpoint.start()
    try:
        for account in accounts:
            if not endpoint.has_account(account.name):
                endpoint.add_account(account)
        yield endpoint
    finally:
        if running is None:
            endpoint.stop()
