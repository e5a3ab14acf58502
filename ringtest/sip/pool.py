"""Many ring tests at once, spread over several processes that each own one SIP endpoint.

One pjsua2 process holds at most `CALLS_PER_PROCESS` calls (a compile-time limit of
the wheel), so `RingTestPool` starts `workers` processes (spawned, never forked from
a process that may hold pjsua2 threads). Each worker starts a `SipEndpoint`, sets up
the same accounts, and runs `CALLS_PER_PROCESS` threads that take ring tests from one
shared task queue, so a test starts as soon as any call slot anywhere is free. Each
worker times its own calls with ``time.monotonic()`` on its own endpoint thread, so
accuracy is the same as in-process. Results and errors come back on a result queue
and land in the `Future` that `submit_ring_test` returned.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from ringtest.core.errors import SipError
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import PlacedRingTest, place_ring_test
from ringtest.sip.endpoint import CALLS_PER_PROCESS, SipEndpoint

logger = logging.getLogger(__name__)

WORKER_START_SECONDS = 30.0
"""seconds: how long a worker may take to start its endpoint and register its accounts."""


class RingTestPool:
    """`workers` SIP endpoint processes placing ring tests in parallel.

    Capacity is ``workers * CALLS_PER_PROCESS`` simultaneous calls; more tests wait
    for a free slot. register_timeout_seconds: float, per account and worker.
    """

    def __init__(
        self,
        accounts: Sequence[SipAccount],
        *,
        workers: int,
        register_timeout_seconds: float = 5.0,
    ) -> None:
        self.accounts = tuple(accounts)
        self.workers = workers
        self.register_timeout_seconds = register_timeout_seconds
        self._context = multiprocessing.get_context("spawn")
        self._tasks: Any = None
        self._results: Any = None
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._pending: dict[int, Future[PlacedRingTest]] = {}
        self._pending_lock = threading.Lock()
        self._task_ids = itertools.count()
        self._collector: threading.Thread | None = None

    def __enter__(self) -> RingTestPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the workers and wait until every one has its endpoint and accounts up."""
        self._tasks = self._context.Queue()
        self._results = self._context.Queue()
        ready = self._context.Queue()
        for number in range(self.workers):
            process = self._context.Process(
                target=_worker_main,
                args=(
                    self.accounts,
                    self.register_timeout_seconds,
                    self._tasks,
                    self._results,
                    ready,
                ),
                name=f"sip-worker-{number}",
                daemon=True,
            )
            process.start()
            self._processes.append(process)
        errors = [self._wait_ready(ready) for _ in self._processes]
        self._collector = threading.Thread(
            target=self._collect, name="sip-pool-results", daemon=True
        )
        self._collector.start()
        first_error = next((error for error in errors if error is not None), None)
        if first_error is not None:
            self.stop()
            raise first_error

    def stop(self) -> None:
        """Let running tests finish, stop every worker, fail tests that never started."""
        for _ in range(len(self._processes) * CALLS_PER_PROCESS):
            self._tasks.put(None)
        for process in self._processes:
            process.join()
        self._processes.clear()
        if self._collector is not None:
            self._results.put(None)
            self._collector.join()
            self._collector = None
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(SipError("the ring test pool stopped before the test ran"))

    def submit_ring_test(
        self, account_name: str, target_uri: str, **options: Any
    ) -> Future[PlacedRingTest]:
        """Queue one ring test; `options` are `place_ring_test`'s keyword arguments."""
        if not self._processes:
            raise SipError("the ring test pool is not running: start it before placing calls")
        if isinstance(options.get("extra_headers"), Mapping):
            options["extra_headers"] = dict(options["extra_headers"])
        future: Future[PlacedRingTest] = Future()
        task_id = next(self._task_ids)
        with self._pending_lock:
            self._pending[task_id] = future
        self._tasks.put((task_id, account_name, target_uri, options))
        return future

    def place_ring_test(self, account_name: str, target_uri: str, **options: Any) -> PlacedRingTest:
        """Place one ring test on any worker and wait for its result."""
        return self.submit_ring_test(account_name, target_uri, **options).result()

    def _wait_ready(self, ready: Any) -> BaseException | None:
        try:
            return ready.get(timeout=WORKER_START_SECONDS)
        except queue.Empty:
            return SipError(
                f"a SIP worker process did not start within {WORKER_START_SECONDS:g} s: "
                "check that pjsua2 imports in a fresh Python process"
            )

    def _collect(self) -> None:
        while (message := self._results.get()) is not None:
            task_id, placed, error = message
            with self._pending_lock:
                future = self._pending.pop(task_id, None)
            if future is None:
                logger.warning("ring test result for unknown task %d", task_id)
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(placed)


def _worker_main(
    accounts: Sequence[SipAccount],
    register_timeout_seconds: float,
    tasks: Any,
    results: Any,
    ready: Any,
) -> None:
    """A worker process: one endpoint, its accounts, CALLS_PER_PROCESS calling threads."""
    try:
        endpoint = SipEndpoint()
        endpoint.start()
    except SipError as error:
        ready.put(error)
        return
    try:
        for account in accounts:
            endpoint.add_account(account, register_timeout_seconds=register_timeout_seconds)
    except SipError as error:
        ready.put(error)
        endpoint.stop()
        return
    ready.put(None)
    callers = [
        threading.Thread(target=_caller_loop, args=(endpoint, tasks, results), daemon=True)
        for _ in range(CALLS_PER_PROCESS)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    endpoint.stop()


def _caller_loop(endpoint: SipEndpoint, tasks: Any, results: Any) -> None:
    while (task := tasks.get()) is not None:
        task_id, account_name, target_uri, options = task
        try:
            placed = place_ring_test(endpoint, account_name, target_uri, **options)
        except Exception as error:  # handed to the waiting thread in the parent
            results.put((task_id, None, error))
        else:
            results.put((task_id, placed, None))
