"""`ringtest demo`: a morning at the lab council, measured end to end.

From nothing: the lab PBX comes up, the AMI listener attaches, lab citizens
(real sipp callers, each presenting their own number) ring the departments
while lab staff answer quickly, late or not at all; staff call some missed
callers back; mystery ring tests (pjsua2) probe each line; and what ringtest
measured is printed and written to the output folder.

Every call's truth is chosen here (how long staff take to answer, when the
caller gives up), so what the listener stores can be read against it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analysis.compliance import answering_compliance, calls_frame
from ringtest.cli.output import render
from ringtest.config import Settings, load_settings
from ringtest.lab.accounts import ANSWER_HEADER, LAB_HOST, RINGTESTER, SIP_PORT, STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.lab.pbx import lab_up
from ringtest.listening import BackgroundListener, StoreSink, make_listener
from ringtest.records import RingTestResult
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test
from ringtest.sip.endpoint import SipEndpoint
from ringtest.standards import Standards
from ringtest.store import Store

LAB_CONFIG = Path(__file__).parent.parent / "examples" / "lab.toml"
CALL_SETTLE_SECONDS = 10.0
"""seconds to wait for the last calls' hang-up events to reach the store."""


@dataclass(frozen=True)
class CitizenCall:
    """One lab citizen's call: who, which line, how staff answer, when the caller gives up.

    answer: X-Lab-Answer (milliseconds, ``never``) or "" for the line's own behaviour.
    give_up_seconds: the caller hangs up after this long unanswered (0: waits).
    hold_seconds: how long the caller stays on once answered (an IVR needs a while).
    """

    caller: str
    dial: str
    answer: str
    give_up_seconds: float = 0
    hold_seconds: float = 1.0


CITIZEN_CALLS = (
    CitizenCall("+441382000101", "2001", "4000"),
    CitizenCall("+441382000102", "2001", "9500"),
    CitizenCall("+441382000103", "2002", "23000"),
    CitizenCall("+441382000104", "2002", "never", give_up_seconds=10),
    CitizenCall("+441382000105", "2003", "5000"),
    CitizenCall("+441382000106", "2003", "14000"),
    CitizenCall("+441382000107", "2000", "3000", hold_seconds=10),
    CitizenCall("+441382000108", "2004", "never", hold_seconds=3),
    CitizenCall("+441382000109", "2004", "6000"),
    CitizenCall("+441382000110", "2005", ""),
    CitizenCall("+441382000111", "2001", "never", give_up_seconds=8),
    CitizenCall("+441382000112", "2002", "2500"),
)
CALLED_BACK = ("+441382000104", "+441382000108")
"""Missed callers the lab staff ring back during the demo; the others stay owed."""

RING_TESTS = (
    ("Council Tax", "2001", "2000"),
    ("Housing", "2002", "25000"),
    ("Benefits", "2003", "3000"),
    ("Planning", "2004", "never"),
    ("Licensing", "2005", ""),
)
"""Mystery ring tests: (department, extension, X-Lab-Answer)."""


def run_demo(out_dir: Path, console: Console) -> Path:
    """Run the whole demo; return the path of the SQLite database it wrote."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "ringtest.db"
    database.unlink(missing_ok=True)
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"})
    with console.status("bringing up the lab PBX"):
        status = lab_up()
    console.print(f"lab PBX up: {status.asterisk_version}")
    with Store.open(settings.store_url()) as store:
        listener = BackgroundListener(make_listener(settings, store, StoreSink(store))).start()
        console.print(f"listener attached to AMI {settings.ami.host}:{settings.ami.port}")
        try:
            _drive_calls(settings, store, console)
            _wait_for_settling(store, len(CITIZEN_CALLS) + len(RING_TESTS))
        finally:
            listener.stop()
        _report(settings, store, out_dir, console)
    return database


def _drive_calls(settings: Settings, store: Store, console: Console) -> None:
    total = len(CITIZEN_CALLS) + len(CALLED_BACK) + len(RING_TESTS)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("calls placed", total=total)
        with ThreadPoolExecutor(max_workers=len(CITIZEN_CALLS)) as pool:
            citizens = [pool.submit(_citizen_call, call) for call in CITIZEN_CALLS]
            results = _ring_tests(settings, lambda: progress.advance(task))
            for future in citizens:
                future.result()
                progress.advance(task)
        for number in CALLED_BACK:
            lab_call(number, account=STAFFOUT, answer="3000", hold_ms=1500)
            progress.advance(task)
    for result in results:
        store.save_ring_test(result)


def _citizen_call(call: CitizenCall) -> None:
    lab_call(
        call.dial,
        answer=call.answer or None,
        caller=call.caller,
        hold_ms=int(call.hold_seconds * 1000),
        give_up_ms=int(call.give_up_seconds * 1000),
    )


def _ring_tests(settings: Settings, done) -> list[RingTestResult]:
    """Place the mystery ring tests one after another from the ringtester account."""
    standards = Standards.from_settings(settings)
    results = []
    with SipEndpoint() as endpoint:
        endpoint.add_account(
            SipAccount(name="ringtester", user=RINGTESTER.username,
                       password=RINGTESTER.secret, domain=LAB_HOST)
        )  # fmt: skip
        for department, extension, answer in RING_TESTS:
            placed = place_ring_test(
                endpoint,
                "ringtester",
                f"sip:{extension}@{LAB_HOST}:{SIP_PORT}",
                max_rings=10,
                seconds_per_ring=standards.seconds_per_ring,
                answer_within_rings=standards.answer_within_rings,
                extra_headers={ANSWER_HEADER: answer} if answer else None,
                timeout_seconds=60,
                department=department,
                campaign="demo",
            )
            results.append(placed.result)
            done()
    return results


def _wait_for_settling(store: Store, expected_calls: int) -> None:
    deadline = time.monotonic() + CALL_SETTLE_SECONDS
    while len(store.calls()) < expected_calls and time.monotonic() < deadline:
        time.sleep(0.1)


def _report(settings: Settings, store: Store, out_dir: Path, console: Console) -> None:
    calls = store.calls()
    rows = answering_compliance(calls_frame(calls))
    standard = settings.standards.answer_within_rings
    table = Table(title=f"Live calls: answered by a person, within {standard} rings (median rings)")
    for column in ("department", "calls", "person", f"<={standard}", "%", "rings",
                   "abandoned", "voicemail", "busy"):  # fmt: skip
        table.add_column(column)
    for row in rows.to_dict("records"):
        table.add_row(
            row["department"], str(row["offered"]), str(row["answered_by_person"]),
            str(row["within_standard"]), f"{row['within_standard_pct']:.0f}%",
            f"{row['median_rings']:.0f}" if row["median_rings"] == row["median_rings"] else "-",
            str(row["abandoned"]), str(row["voicemail"]), str(row["busy"]),
        )  # fmt: skip
    console.print(table)
    ring_tests = store.ring_tests()
    console.print("Mystery ring tests")
    console.print(render(ring_tests, "table", ("department", "outcome", "answered_by", "rings",
                                               "ring_seconds", "sip_code")))  # fmt: skip
    obligations = store.obligations()
    console.print("Callbacks owed for missed calls")
    console.print(render(obligations, "table", ("department", "caller", "status", "deadline_at",
                                                "connected")))  # fmt: skip
    outputs = {
        "calls.csv": render(calls, "csv"),
        "ring_tests.csv": render(ring_tests, "csv"),
        "callbacks.csv": render(obligations, "csv"),
        "compliance.csv": rows.to_csv(index=False),
    }
    for name, text in outputs.items():
        (out_dir / name).write_text(text)
    console.print(f"wrote {', '.join(str(out_dir / name) for name in outputs)} "
                  f"and {out_dir / 'ringtest.db'}")  # fmt: skip
