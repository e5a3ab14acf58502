"""Two PBXs in one `ringtest listen`: the lab Asterisk live, and a second PBX ("south")
simulated by a real TCP AMI server playing a recorded lab stream at its recorded pace.

Both have an extension 2001, each its own department. The south PBX's recording is a
call to 2005 that met a busy line (from the lab's ring-test number, which this
configuration does not list as a test caller, so it counts as a citizen's), so south owes
that caller a call back; lab staff then ring the number back from the lab PBX (nobody
answers there), which, the two PBXs being one organisation, closes south's obligation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy, CallbackStatus, CallOutcome
from ringtest.lab.accounts import STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.store import Store
from tests.ami.recorded_pbx import recorded_pbx
from tests.ami.test_listener_faults import stopped
from tests.ami.test_live_kill import start_listener
from tests.conftest import wait_until
from tests.test_cli import wait_for_listener_login

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"
BUSY_RECORDING = FIXTURES / "busy_line.ami"
SOUTH_CITIZEN = "+441382000199"
"""The caller of the south recording who met a busy 2005."""
SOUTH_2001_CALLER = "+441382000100"
"""A caller of the south recording to 2001, whose call the recording does not finish."""
LAB_CALLER = "+441382000177"

CONFIG = """
[ami]
user = "listener"
inbound_contexts = ["council-inbound"]

[[pbx]]
name = "lab"
host = "127.0.0.1"
port = 5038
secret = "lab-listener-secret"
[[pbx.lines]]
extension = "2001"
department = "Council Tax"

[[pbx]]
name = "south"
host = "127.0.0.1"
port = {south_port}
secret = "south-secret"
[[pbx.lines]]
extension = "2001"
department = "South Council Tax"
[[pbx.lines]]
extension = "2005"
department = "South Licensing"

[calendar]
timezone = "Europe/London"
country = "GB"
subdivision = "SCT"
"""


@pytest.fixture(scope="module")
def two_pbxs(lab, tmp_path_factory):
    """Listen to both, play south's recording, call 2001 on the lab, ring south's citizen
    back from the lab; return the stored calls and obligations."""
    tmp_path = tmp_path_factory.mktemp("two-pbxs")
    database = f"sqlite:///{tmp_path}/ringtest.db"
    with recorded_pbx("south-secret") as south:
        config = tmp_path / "ringtest.toml"
        config.write_text(CONFIG.format(south_port=south.port))
        daemon = start_listener(tmp_path, config)
        try:
            wait_for_listener_login()
            wait_until(lambda: south.ami.logins >= 1, 20.0, "the listener never logged in to south")
            south.play(BUSY_RECORDING)
            lab_call("2001", answer="500", caller=LAB_CALLER)
            with Store.open(database) as store:
                wait_until(
                    lambda: len(store.obligations()) == 1 and len(store.calls()) == 2,
                    20.0,
                    "the calls of both PBXs were not stored",
                )
                lab_call(SOUTH_CITIZEN, account=STAFFOUT)
                wait_until(
                    lambda: store.obligations()[0].status is CallbackStatus.CALLED_BACK,
                    20.0,
                    "the call back from the lab did not close south's obligation",
                )
            code, _, stderr = stopped(daemon)
        finally:
            daemon.kill()
    assert code == 0, stderr
    with Store.open(database) as store:
        return store.calls(), store.obligations()


def test_each_pbxs_calls_are_stored_with_its_name_and_its_own_line_2001(two_pbxs):
    calls, _ = two_pbxs
    by_pbx = {(call.pbx, call.caller): call for call in calls}
    busy = by_pbx[("south", SOUTH_CITIZEN)]
    assert (busy.line, busy.department, busy.outcome) == (
        "2005",
        "South Licensing",
        CallOutcome.BUSY,
    )
    south_2001 = by_pbx[("south", SOUTH_2001_CALLER)]
    lab_2001 = by_pbx[("lab", LAB_CALLER)]
    assert (south_2001.line, south_2001.department) == ("2001", "South Council Tax")
    assert (lab_2001.line, lab_2001.department, lab_2001.answered_by) == (
        "2001",
        "Council Tax",
        AnsweredBy.PERSON,
    )


def test_a_call_back_from_one_pbx_closes_the_call_missed_on_the_other(two_pbxs):
    _, obligations = two_pbxs
    [obligation] = obligations
    assert (obligation.pbx, obligation.caller, obligation.line) == ("south", SOUTH_CITIZEN, "2005")
    assert (obligation.status, obligation.connected) == (CallbackStatus.CALLED_BACK, False)
