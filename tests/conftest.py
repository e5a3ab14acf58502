"""Fixtures shared by every suite: the lab PBX."""

from __future__ import annotations

import pytest

from ringtest.lab.pbx import LabStatus, lab_up


@pytest.fixture(scope="session")
def lab() -> LabStatus:
    """The running lab PBX (real Asterisk 22 on 127.0.0.1:5038 AMI and :5060 SIP, with
    its sipp staff agents). `lab_up` is idempotent: an already running lab is reused."""
    return lab_up()
