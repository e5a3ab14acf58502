"""pjsua2 holds at most `ACCOUNTS_PER_PROCESS` accounts: one more is a one-line error.

pjsua itself aborts the process on a ninth account, so the endpoint refuses it first.
Run in a child process: the test session's endpoint already holds other suites' accounts.
"""

import subprocess
import sys

from ringtest.sip.endpoint import ACCOUNTS_PER_PROCESS

ADD_ONE_TOO_MANY = f"""
from ringtest.core.errors import SipError
from ringtest.sip.accounts import SipAccount
from ringtest.sip.endpoint import SipEndpoint

with SipEndpoint() as endpoint:
    for n in range({ACCOUNTS_PER_PROCESS}):
        endpoint.add_account(SipAccount(name=f"a{{n}}", user="u"))
    try:
        endpoint.add_account(SipAccount(name="one-too-many", user="u"))
    except SipError as error:
        print(error)
    endpoint.remove_account("a0")
    endpoint.add_account(SipAccount(name="in-a0s-place", user="u"))
    print(endpoint.has_account("in-a0s-place"), endpoint.has_account("a0"))
"""


def test_one_account_too_many_is_one_line_and_removing_one_makes_room():
    done = subprocess.run(
        [sys.executable, "-c", ADD_ONE_TOO_MANY], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "SIP account 'one-too-many' would be this process's 9th (pjsua2 allows 8): "
        "remove one first or use fewer [[sip.accounts]]",
        "True False",
    ]
