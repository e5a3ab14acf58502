"""`ringtest gaps` as a person meets it: a subprocess, its exact output."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ringtest.core.records import CoverageGap, GapFill, GapReason
from ringtest.store import Store
from tests.test_cli import ringtest

DOWN = CoverageGap(
    "lab",
    datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 9, 0, 8, 500000, tzinfo=UTC),
    GapReason.LISTENER_DOWN,
)
RESTART = CoverageGap(
    "lab",
    datetime(2026, 11, 24, 14, 5, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 14, 5, 3, tzinfo=UTC),
    GapReason.PBX_RESTARTED,
)

DOWN_FILLED = GapFill(
    "lab",
    DOWN.started_at,
    "Master.csv",
    datetime(2026, 11, 23, 9, 0, 14, tzinfo=UTC),
    3,
    1,
    passes_over=True,
)


@pytest.fixture
def database(tmp_path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    with Store.open(url) as store:
        store.save_gaps([RESTART, DOWN])
        store.save_gap_fill(DOWN_FILLED)
    return {"RINGTEST_DB": url}


def test_gaps_as_csv_oldest_first(database):
    done = ringtest("gaps", "--format", "csv", env=database)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "pbx,started_at,ended_at,reason,filled_from,calls_filled,calls_completed,fill_over\n"
        "lab,2026-11-23T09:00:00+00:00,2026-11-23T09:00:08.500000+00:00,listener_down,"
        "Master.csv,3,1,True\n"
        "lab,2026-11-24T14:05:00+00:00,2026-11-24T14:05:03+00:00,pbx_restarted,,,,\n\n"
    )


def test_gaps_as_json_within_a_period(database):
    done = ringtest(
        "gaps", "--since", "2026-11-24", "--until", "2026-11-25", "--format", "json", env=database
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {
            "pbx": "lab",
            "started_at": "2026-11-24T14:05:00+00:00",
            "ended_at": "2026-11-24T14:05:03+00:00",
            "reason": "pbx_restarted",
            "filled_from": None,
            "calls_filled": None,
            "calls_completed": None,
            "fill_over": None,
        }
    ]


def test_gaps_as_a_table_in_local_time(database):
    done = ringtest("gaps", "--until", "2026-11-24", env=database)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "┏━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━┳"
        "━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓",
        "┃ pbx ┃ started_at (Europe/London) ┃ ended_at (Europe/London) ┃"
        " reason        ┃ filled_from ┃ calls_filled ┃ calls_completed ┃ fill_over ┃",
        "┡━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━╇"
        "━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩",
        "│ lab │ 2026-11-23 09:00:00        │ 2026-11-23 09:00:08      │"
        " listener_down │ Master.csv  │ 3            │ 1               │ True      │",
        "└─────┴────────────────────────────┴──────────────────────────┴"
        "───────────────┴─────────────┴──────────────┴─────────────────┴───────────┘",
        "",
    ]


def test_no_gaps_is_said_so(tmp_path):
    Store.open(f"sqlite:///{tmp_path / 'empty.db'}").close()
    done = ringtest("gaps", env={"RINGTEST_DB": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert (done.returncode, done.stdout) == (0, "(none)\n")
