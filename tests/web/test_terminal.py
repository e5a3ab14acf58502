"""`ringtest watch`'s frame, drawn from the live model's own views (`analysis.live_view`)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
import pytest
from rich.console import Console

from ami_listener.obligations import CallbackLedger
from analysis.live_day import DepartmentDay
from analysis.live_view import ListenerHealth, snapshot
from ringtest.config import load_settings
from ringtest.core.errors import ConfigError
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.stream import CallEnded, CallRinging, ObligationChanged
from ringtest.lab.settings import LAB_CONFIG
from ringtest.web.terminal import STATE_STYLES, LinkStatus, frame, ringing_cell
from tests.store.builders import call_record

ZONE = ZoneInfo("Europe/London")
URL = "http://127.0.0.1:8470/"
NOW = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)  # a Friday, in working hours
SECONDS_PER_RING = 3.0  # the lab's cadence; its standard is 7 rings


def wire(view: dict) -> dict:
    """`view` as `ringtest watch` receives it: through JSON, as the server sends it."""
    return orjson.loads(orjson.dumps(view))


def shown(view: dict, top: int = 10, link: LinkStatus | None = None) -> str:
    console = Console(width=170, file=io.StringIO(), record=True, color_system=None)
    console.print(frame(wire(view), link or LinkStatus(URL), ZONE, top))
    return console.export_text()


def row_of(text: str, department: str) -> str:
    [row] = [line for line in text.splitlines() if line.strip().startswith(department + "  ")]
    return re.sub(r"\s{2,}", " | ", row.strip())


def ringing(call_id: str, department: str, rings: int) -> CallRinging:
    """A call that has rung `rings` rings (the ring in progress counting) at NOW."""
    started = NOW - timedelta(seconds=(rings - 0.5) * SECONDS_PER_RING)
    return CallRinging(call_id, "lab", "2002", department, "+441382000141", False, started)


def test_each_ringing_call_shows_its_rings_amber_one_before_the_standard_red_past_it(feed):
    feed.board.apply([ringing("1", "Housing", 3), ringing("2", "Housing", 6)])
    feed.board.apply([ringing("3", "Housing", 8)])
    view = snapshot(feed.board, ListenerHealth(), NOW, False)
    text = shown(view)
    assert row_of(text, "Housing").startswith("Housing | 3: 8, 6, 3 rings | 8 rings 0:00:22")
    assert row_of(text, "Benefits").startswith("Benefits | 0 | – | – (0 of 0) | 0")
    cell = ringing_cell(wire(view)["ringing"])
    styled = [(cell.plain[span.start : span.end], span.style) for span in cell.spans]
    assert styled == [
        ("8", STATE_STYLES["red"]),
        ("6", STATE_STYLES["amber"]),
        ("3", STATE_STYLES["ok"]),
    ]


def test_today_s_figures_and_ring_tests_are_the_store_s_as_the_board_holds_them(feed):
    counts = {"offered": 4, "within_standard": 3, "missed": 1}
    outcomes = {"answered": 1, "no_answer": 1}
    feed.board.set_day_figures(
        {"Planning": DepartmentDay("Planning", counts, 75.0, 2, 1, outcomes)}
    )
    text = shown(snapshot(feed.board, ListenerHealth(), NOW, False))
    assert row_of(text, "Planning") == (
        "Planning | 0 | – | 75.0 % (3 of 4) | 1 | 0 | 0 | – | 2: 1 answered, 1 no answer"
    )


def owe(feed, callers: list[str]) -> None:
    """Missed calls to Housing from `callers`, a minute apart, each owed a call back."""
    ledger = CallbackLedger(feed.board.standards)
    for index, caller in enumerate(callers):
        ended = NOW - timedelta(minutes=30 - index)
        missed = call_record(
            pbx="lab", call_id=f"m{index}", caller=caller, department="Housing", line="2002",
            outcome=CallOutcome.ABANDONED, answered_by=AnsweredBy.NONE, rings=5,
            is_test_call=False, started_at=ended - timedelta(seconds=20), ended_at=ended,
        )  # fmt: skip
        feed.board.apply([CallEnded(missed), *map(ObligationChanged, ledger.on_call(missed))])


def test_the_work_list_shows_the_nearest_deadlines_first_numbers_masked(feed):
    owe(feed, ["+441382000101", "+441382000102", "+441382000103"])
    text = shown(snapshot(feed.board, ListenerHealth(), NOW, False), top=2)
    rows = [re.sub(r"\s{2,}", " | ", line.strip()) for line in text.splitlines() if "•••" in line]
    assert [row.split(" | ")[:4] for row in rows] == [
        ["normal", "+44 1382 ••• 101", "Housing", "abandoned after 5 rings"],
        ["normal", "+44 1382 ••• 102", "Housing", "abandoned after 5 rings"],
    ]
    assert "Callers to call back (3)" in text and "and 1 more" in text
    assert "+441382000101" not in text
    assert row_of(text, "Housing").split(" | ")[5:7] == ["3", "0"]  # owed, overdue


def test_numbers_are_shown_whole_where_the_configuration_allows(feed):
    owe(feed, ["+441382000101"])
    text = shown(snapshot(feed.board, ListenerHealth(), NOW, True))
    assert "+441382000101" in text


def test_the_banner_says_why_the_figures_are_not_whole_and_goes_when_they_are(feed):
    feed.board.set_day_figures({}, gaps_today=2)
    text = shown(snapshot(feed.board, ListenerHealth(), NOW, False))
    assert "Figures are not whole: listener not connected; 2 coverage gaps today" in text
    assert "Listener: not connected  last event none yet  PBX clock not measured" in text
    stats = SimpleNamespace(
        pbx="lab", connected_since=NOW - timedelta(hours=2),
        last_event_at=NOW - timedelta(seconds=3), clock_offset_seconds=-0.012,
        anomalies={"unexpected": 2}, oversize_frames=1, write_errors=0,
    )  # fmt: skip
    feed.board.set_day_figures({}, gaps_today=0)
    text = shown(snapshot(feed.board, ListenerHealth(stats), NOW, False))
    assert "not whole" not in text
    assert (
        "Listener: connected since 08:30  last event 3 s ago  PBX clock -0.012 s from ours  "
        "anomalies 2  oversize frames 1  write errors 0"
    ) in text


def test_the_header_says_when_the_link_is_lost_and_the_state_shown_is_the_last(feed):
    view = snapshot(feed.board, ListenerHealth(), NOW, False)
    assert "  live  standard: 7 rings of 3 s  at 10:30:00" in shown(view)
    lost = shown(view, link=LinkStatus(URL, "connection refused", 4.2))
    assert f"{URL}  reconnecting… link lost 4 s ago (connection refused)" in lost
    assert "  live  " not in lost


@pytest.mark.parametrize(
    ("bind", "port", "url"),
    [
        ("127.0.0.1", 8470, "http://127.0.0.1:8470/"),
        ("0.0.0.0", 8471, "http://127.0.0.1:8471/"),
        ("::", 8470, "http://[::1]:8470/"),
        ("localhost", 8470, "http://localhost:8470/"),
    ],
)
def test_the_default_address_comes_from_the_web_settings(bind, port, url):
    from ringtest.cli.watch import default_url

    settings = load_settings(
        LAB_CONFIG, overrides={"web.bind": bind, "web.port": port, "web.token": "x" * 16},
        environ={},
    )  # fmt: skip
    assert default_url(settings.web) == url


def test_a_port_of_zero_cannot_be_watched_without_an_address():
    from ringtest.cli.watch import default_url

    settings = load_settings(LAB_CONFIG, overrides={"web.port": 0}, environ={})
    with pytest.raises(ConfigError) as refused:
        default_url(settings.web)
    assert str(refused.value) == (
        "web.port is 0 (any free port): pass --url with the address the daemon logged "
        "('live view on http://...')"
    )
