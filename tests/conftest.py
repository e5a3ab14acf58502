"""Fixtures shared by every suite: the lab PBX and the process's one SIP endpoint; and
`wait_until`, for tests that wait on another process or thread. Every daemon a test
starts serves its live view on a free port (never the fixed default)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from ringtest.lab.pbx import LabStatus, lab_up
from ringtest.sip.accounts import SipAccount
from ringtest.sip.endpoint import SipEndpoint

T = TypeVar("T")

WAIT_POLL_SECONDS = 0.05


@pytest.fixture(autouse=True, scope="session")
def live_view_on_a_free_port() -> Iterator[None]:
    """``RINGTEST_WEB__PORT=0`` for the session: the daemons tests start (in-process or
    as ``ringtest listen`` children, which inherit the environment) never race for 8470."""
    before = os.environ.get("RINGTEST_WEB__PORT")
    os.environ["RINGTEST_WEB__PORT"] = "0"
    yield
    if before is None:
        del os.environ["RINGTEST_WEB__PORT"]
    else:
        os.environ["RINGTEST_WEB__PORT"] = before


def wait_until(
    condition: Callable[[], T], seconds: float = 30.0, failing: str = "condition not met in time"
) -> T:
    """Poll `condition` until it returns something true, and return that; the test fails
    with `failing` when `seconds` (monotonic) pass first."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, failing
        time.sleep(WAIT_POLL_SECONDS)
    return value


@pytest.fixture(scope="session")
def lab() -> LabStatus:
    """The running lab PBX (real Asterisk 22 on 127.0.0.1:5038 AMI and :5060 SIP, with
    its sipp staff agents). `lab_up` is idempotent: an already running lab is reused."""
    return lab_up()


@pytest.fixture(scope="session")
def sip_endpoint() -> Iterator[SipEndpoint]:
    """The process's one SIP endpoint (pjsua2 allows one per process), with account
    'tester' (no registration); suites add the accounts they need."""
    with SipEndpoint() as endpoint:
        endpoint.add_account(SipAccount(name="tester", user="tester"))
        yield endpoint
