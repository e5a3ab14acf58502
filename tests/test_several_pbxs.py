"""Several PBXs: `[[pbx]]` settings, one view per PBX, and callback obligations shared
within an organisation (the live two-PBX run is tests/ami/test_live_several_pbxs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_listener.message import AmiMessage
from ringtest.config import Settings, load_settings
from ringtest.core.errors import ConfigError
from ringtest.core.records import (
    AnsweredBy,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    DialledCall,
)
from ringtest.sources.live_calls import build_pipeline, shared_ledgers
from ringtest.store import Store

TWO_SITES = """
[ami]
user = "ringtest"
journal_dir = "/var/lib/ringtest/journal"

[[pbx]]
name = "north"
host = "10.1.0.5"
secret = "north-secret"
{north_extra}
[[pbx.lines]]
extension = "2001"
department = "Council Tax"

[[pbx]]
name = "south"
host = "10.2.0.5"
secret_file = "south.secret"
{south_extra}
[[pbx.lines]]
extension = "2001"
department = "Housing"
"""

MONDAY_10AM = datetime(2026, 11, 23, 10, tzinfo=UTC)
CITIZEN = "+441382000100"


def two_sites(tmp_path: Path, north_extra: str = "", south_extra: str = "") -> Settings:
    secret = tmp_path / "south.secret"
    secret.write_text("south-secret\n")
    secret.chmod(0o600)
    config = tmp_path / "ringtest.toml"
    config.write_text(TWO_SITES.format(north_extra=north_extra, south_extra=south_extra))
    return load_settings(config, environ={})


def load_error(tmp_path: Path, text: str) -> str:
    two_sites(tmp_path)
    config = tmp_path / "ringtest.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    return str(raised.value).removeprefix(f"{config}: ")


def test_each_pbx_is_a_view_with_its_own_ami_and_lines_and_ami_gives_the_defaults(tmp_path):
    settings = two_sites(tmp_path)
    north, south = settings.pbx_views()
    assert (north.ami.pbx, north.ami.host, north.ami.user) == ("north", "10.1.0.5", "ringtest")
    assert (south.ami.pbx, south.ami.host, south.ami.user) == ("south", "10.2.0.5", "ringtest")
    assert north.ami.journal_dir == south.ami.journal_dir == Path("/var/lib/ringtest/journal")
    assert [(line.target, line.department) for line in north.lines] == [("2001", "Council Tax")]
    assert [(line.target, line.department) for line in south.lines] == [("2001", "Housing")]
    assert [line.department for line in settings.lines] == ["Council Tax", "Housing"]


def test_one_ami_is_the_one_view(tmp_path):
    settings = load_settings(None, environ={})
    assert settings.pbx_views() == [settings]


def test_the_same_extension_on_two_pbxs_is_two_lines_but_twice_on_one_is_refused(tmp_path):
    two_sites(tmp_path)
    twice = TWO_SITES.format(north_extra="", south_extra="").replace(
        'department = "Housing"',
        'department = "Housing"\n[[pbx.lines]]\nextension = "2001"\ndepartment = "Benefits"',
    )
    assert load_error(tmp_path, twice) == (
        "pbx[1].lines has extension '2001' twice (departments 'Housing' and 'Benefits'): keep "
        "one [[lines]] entry for it, with the department that answers it"
    )


def test_two_pbxs_of_one_name_are_refused(tmp_path):
    text = TWO_SITES.format(north_extra="", south_extra="").replace('"south"', '"north"')
    assert load_error(tmp_path, text) == (
        "two [[pbx]] entries are named 'north': give each its own name"
    )


def test_top_level_lines_beside_pbx_entries_are_refused(tmp_path):
    text = TWO_SITES.format(north_extra="", south_extra="") + (
        '[[lines]]\nextension = "2002"\ndepartment = "Planning"\n'
    )
    assert load_error(tmp_path, text).startswith(
        "[[pbx]] and top-level [[lines]] or [history] are both set: for several PBXs put"
    )


def test_a_pbx_without_a_secret_names_itself(tmp_path):
    settings = two_sites(tmp_path)
    north = settings.pbx_view("north")
    assert (north.ami_secret(), settings.pbx_view("south").ami_secret()) == (
        "north-secret",
        "south-secret",
    )
    no_secret = north.ami.model_copy(update={"secret": None, "secret_file": None})
    with pytest.raises(ConfigError, match="the secret of pbx 'north' is not set"):
        no_secret.secret_value()
    with pytest.raises(ConfigError, match="no PBX is named 'east': use one of north, south"):
        settings.pbx_view("east")


def missed(pbx: str) -> CallRecord:
    return CallRecord(
        call_id=f"{pbx}-1",
        pbx=pbx,
        caller=CITIZEN,
        dialled="2001",
        line="2001",
        department="Council Tax",
        started_at=MONDAY_10AM,
        ring_started_at=MONDAY_10AM,
        answered_at=None,
        ended_at=MONDAY_10AM + timedelta(seconds=20),
        ring_seconds=None,
        rings=None,
        within_standard=False,
        answered_by=AnsweredBy.NONE,
        outcome=CallOutcome.ABANDONED,
    )


def call_back(pbx: str) -> DialledCall:
    at = MONDAY_10AM + timedelta(hours=1)
    return DialledCall(
        call_id=f"{pbx}-2",
        pbx=pbx,
        caller="2001",
        dialled=CITIZEN,
        started_at=at,
        answered_at=at,
        ended_at=at + timedelta(minutes=2),
    )


def obligations_after_call_back(settings: Settings, tmp_path: Path) -> list[CallbackStatus]:
    """A call missed on north, called back from south, through each PBX's own pipeline."""
    with Store.open(f"sqlite:///{tmp_path}/ringtest.db") as store:
        ledgers = shared_ledgers(settings, store)
        north = build_pipeline(settings.pbx_view("north"), store, ledgers["north"])
        south = build_pipeline(settings.pbx_view("south"), store, ledgers["south"])
    opened = north.ledger.on_call(missed("north"))
    closed = south.ledger.on_call(call_back("south"))
    return [obligation.status for obligation in opened + closed]


def test_a_call_back_from_another_pbx_of_the_organisation_closes_the_missed_call(tmp_path):
    statuses = obligations_after_call_back(two_sites(tmp_path), tmp_path)
    assert statuses == [CallbackStatus.OPEN, CallbackStatus.CALLED_BACK]


def test_pbxs_of_two_organisations_keep_their_callers_apart(tmp_path):
    settings = two_sites(
        tmp_path, north_extra='organisation = "Angus"', south_extra='organisation = "Dundee"'
    )
    statuses = obligations_after_call_back(settings, tmp_path)
    assert statuses == [CallbackStatus.OPEN]


def test_each_pipeline_labels_its_calls_with_its_pbx(tmp_path):
    settings = two_sites(tmp_path)
    with Store.open(f"sqlite:///{tmp_path}/ringtest.db") as store:
        south = build_pipeline(settings.pbx_view("south"), store)
    newchannel = AmiMessage.from_frame(
        b"Event: Newchannel\r\nTimestamp: 1795429200.0\r\nChannel: PJSIP/trunk-1\r\n"
        b"Uniqueid: 1.1\r\nLinkedid: 1.1\r\nCallerIDNum: +441382000100\r\nExten: 2001\r\n"
        b"Context: from-trunk\r\n"
    )
    hangup = AmiMessage.from_frame(
        b"Event: Hangup\r\nTimestamp: 1795429210.0\r\nChannel: PJSIP/trunk-1\r\n"
        b"Uniqueid: 1.1\r\nLinkedid: 1.1\r\nCause: 16\r\n"
    )
    south.feed_message(newchannel, MONDAY_10AM)
    [record] = south.feed_message(hangup, MONDAY_10AM).calls
    assert (record.pbx, record.line, record.department) == ("south", "2001", "Housing")
