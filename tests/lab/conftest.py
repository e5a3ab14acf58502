"""The `lab` fixture: the lab PBX (real Asterisk in its chroot + sipp staff agents), up.

Self-contained so it can move to tests/conftest.py and be shared. It brings the
lab up with the same function `ringtest lab up` calls and leaves it running:
`lab_up` is idempotent, so later sessions find it up in well under a second.
"""

from __future__ import annotations

import pytest

from ringtest.lab.pbx import LabStatus, lab_up


@pytest.fixture(scope="session")
def lab() -> LabStatus:
    """The running lab PBX's status (Asterisk on 127.0.0.1:5038 AMI and :5060 SIP)."""
    return lab_up()
