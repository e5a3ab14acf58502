"""Fixtures shared by every suite: the lab PBX and the process's one SIP endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringtest.lab.pbx import LabStatus, lab_up
from ringtest.sip.accounts import SipAccount
from ringtest.sip.endpoint import SipEndpoint


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
