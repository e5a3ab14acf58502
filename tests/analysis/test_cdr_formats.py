"""`import-cdr` on what councils actually have: FreePBX's CDR Reports CSV, local-time CDRs,
files with nothing to import, and files too big to hold in memory."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.sources.cdr_grouping import rows_by_call
from ringtest.sources.cdr_import import import_cdr
from ringtest.sources.cdr_rows import FREEPBX_COLUMNS, BadRow, parse_rows
from ringtest.store import Store
from tests.analysis.conftest import LAB_CONFIG

SUMMER_UTC = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)  # 10:00 in Europe/London (BST)
UNIQUEID = f"{int(SUMMER_UTC.timestamp())}.7"


def master_row(start: str, uniqueid: str = UNIQUEID, answer: str = "", end: str = "") -> str:
    """An 18-field cdr_csv row: a caller to extension 2001, answered 24 s after `start`."""
    return (
        f'"","+441382000181","2001","council-inbound","""Citizen"" <+441382000181>",'
        f'"PJSIP/citizen-1","PJSIP/staff1-2","Dial","PJSIP/staff1,60","{start}",'
        f'"{answer or start[:-2] + "24"}","{end or start[:-5] + "01:00"}",60,36,"ANSWERED",'
        f'"DOCUMENTATION","{uniqueid}",""'
    )


def freepbx_row(calldate: str, uniqueid: str = UNIQUEID) -> str:
    """A FreePBX cdr table row in its 26-column order: answered, 60 s long, 36 s billed."""
    values = {
        **dict.fromkeys(FREEPBX_COLUMNS, ""),
        "calldate": calldate,
        "clid": '"Citizen" <+441382000181>',
        "src": "+441382000181",
        "dst": "2001",
        "dcontext": "from-did-direct",
        "channel": "PJSIP/trunk-00000001",
        "dstchannel": "PJSIP/2001-00000002",
        "lastapp": "Dial",
        "lastdata": "PJSIP/2001,60",
        "duration": "60",
        "billsec": "36",
        "disposition": "ANSWERED",
        "amaflags": "3",
        "uniqueid": uniqueid,
        "linkedid": uniqueid,
        "sequence": "4",
    }
    return ",".join('"' + values[name].replace('"', '""') + '"' for name in FREEPBX_COLUMNS)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(
        LAB_CONFIG, overrides={"store.url": f"sqlite:///{tmp_path / 'r.db'}"}, environ={}
    )


def import_file(settings, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-cdr"]
    return subprocess.run(
        [*command, str(path), *args],
        capture_output=True,
        text=True,
        env={"RINGTEST_DB": settings.store_url() or ""},
    )


def test_local_times_are_detected_from_the_uniqueids_and_stored_as_utc(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(master_row("2026-07-15 10:00:00") + "\n")  # usegmtime = no: BST wall time
    done = import_file(settings, cdr)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(
        "times read as local time (Europe/London), as the file's uniqueids say "
        "(cdr.conf usegmtime = no)"
    )
    with Store.open(settings.store_url()) as store:
        [call] = store.calls()
    assert (call.started_at, call.ring_seconds) == (SUMMER_UTC, 24.0)


def test_utc_times_are_detected_from_the_uniqueids(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(master_row("2026-07-15 09:00:00") + "\n")  # usegmtime = yes
    with Store.open(settings.store_url()) as store:
        result = import_cdr(cdr, settings, store)
        [call] = store.calls()
    assert result.clock == "UTC, as the file's uniqueids say (cdr.conf usegmtime = yes)"
    assert call.started_at == SUMMER_UTC


def test_local_times_flag_reads_the_file_as_local_time(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(master_row("2026-07-15 10:00:00", uniqueid="pbx-abc") + "\n")
    with Store.open(settings.store_url()) as store:
        result = import_cdr(cdr, settings, store, times_are_local=True)
        [call] = store.calls()
    assert result.clock == "local time (Europe/London), as --local-times asks"
    assert call.started_at == SUMMER_UTC


def test_freepbx_cdr_reports_export_with_its_header_is_read(settings, tmp_path):
    cdr = tmp_path / "cdr__1784106000pbx.csv"
    header = ",".join(FREEPBX_COLUMNS)
    cdr.write_text(header + "\n" + freepbx_row("2026-07-15 10:00:00") + "\n")
    done = import_file(settings, cdr)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"read 1 rows from {cdr}: imported 1 calls;")
    with Store.open(settings.store_url()) as store:
        [call] = store.calls()
    assert (call.started_at, call.ring_seconds, call.rings) == (SUMMER_UTC, 24.0, 8)
    assert call.ended_at == datetime(2026, 7, 15, 9, 1, tzinfo=UTC)
    assert (call.department, call.call_id) == ("Council Tax", UNIQUEID)


def test_freepbx_export_without_a_header_is_read_by_its_26_columns(settings, tmp_path):
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(freepbx_row("2026-07-15 10:00:00") + "\n")
    with Store.open(settings.store_url()) as store:
        result = import_cdr(cdr, settings, store)
        [call] = store.calls()
    assert (result.imported, result.bad_rows) == (1, [])
    assert call.answered_at == datetime(2026, 7, 15, 9, 0, 24, tzinfo=UTC)


def test_a_header_without_the_columns_a_call_needs_is_one_line_naming_what_to_export(
    settings, tmp_path
):
    cdr = tmp_path / "report.csv"
    cdr.write_text("calldate,src,dst,duration\n2026-07-15 10:00:00,1,2001,60\n")
    done = import_file(settings, cdr)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1:] == [
        "ringtest: the CDR file's header row has no dstchannel, lastapp, lastdata, billsec, "
        "disposition, uniqueid column: export FreePBX's CDR Reports with every column, or "
        "import cdr_csv's Master.csv"
    ]


def test_a_file_of_only_bad_rows_imports_nothing_and_exits_non_zero(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text("not,a,cdr\nstill,not\n")
    done = import_file(settings, cdr)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"ringtest: nothing imported from {cdr}: all 2 rows are bad (see above): give "
        "cdr_csv's Master.csv or FreePBX's CDR Reports CSV"
    )


def test_a_file_whose_calls_are_all_stored_already_exits_zero(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(master_row("2026-07-15 10:00:00") + "\n")
    assert import_file(settings, cdr).returncode == 0
    again = import_file(settings, cdr)
    assert again.returncode == 0, again.stderr
    assert "imported 0 calls; 1 already stored" in again.stdout


def test_rows_of_one_call_far_apart_in_the_file_are_one_call_across_sort_chunks():
    lines = [
        master_row("2026-07-15 10:00:00", uniqueid="1784106000.1"),
        master_row("2026-07-15 10:00:05", uniqueid="1784106005.2"),
        master_row("2026-07-15 10:00:06", uniqueid="1784106006.3"),
        master_row("2026-07-15 10:00:30", uniqueid="1784106000.1"),
        master_row("2026-07-15 10:00:40", uniqueid="1784106005.2"),
    ]
    parsed = list(parse_rows(csv.reader(lines)))
    assert not [row for row in parsed if isinstance(row, BadRow)]
    calls = list(rows_by_call(parsed, chunk_rows=2))
    assert [[row.line_number for row in call] for call in calls] == [[1, 4], [2, 5], [3]]


def test_the_import_reports_every_byte_it_reads_for_the_progress_bar(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text("\n".join(master_row(f"2026-07-15 10:00:0{second}") for second in range(5)))
    sizes: list[int] = []
    with Store.open(settings.store_url()) as store:
        import_cdr(cdr, settings, store, on_bytes=sizes.append)
    assert len(sizes) == 5 and sum(sizes) == cdr.stat().st_size
