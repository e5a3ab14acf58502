"""`ringtest demo`: a morning at the lab council, measured end to end.

From nothing: the lab PBX comes up, the AMI listener attaches, lab citizens
(real sipp callers, each presenting their own number) ring the departments
while lab staff answer quickly, late or not at all; staff call some missed
callers back; a short ring-test campaign (`schedules/council.yaml`, its slots
brought forward to now) probes each line with mystery calls (pjsua2); and the
week's report (charts, PDF, CSV, HTML) is written to the output folder, with
the headline figures printed.

Every call's truth is chosen here (how long staff take to answer, when the
caller gives up), so what the listener stores can be read against it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import ringtest
from analysis.report import week_period, write_report
from analysis.report_data import gather_report
from analysis.report_tables import headline
from ringtest.campaigns.daemon import CampaignDaemon, sip_endpoint_for
from ringtest.campaigns.model import CampaignDefinition
from ringtest.campaigns.source import load_campaign
from ringtest.config import Settings, load_settings
from ringtest.core.records import Campaign, RunSlot, RunStatus
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.lab.pbx import lab_up
from ringtest.lab.settings import LAB_CONFIG
from ringtest.outputs.export import render
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

CALL_SETTLE_SECONDS = 10.0
"""seconds to wait for the last calls' hang-up events to reach the store."""
CAMPAIGN_TIMEOUT_SECONDS = 180.0
"""seconds the demo waits for its campaign's mystery calls to settle."""
SETTLED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.NOT_PLACED)


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
    CitizenCall("+441382000113", "2010", "3500", hold_seconds=6),
)
CALLED_BACK = ("+441382000104", "+441382000108")
"""Missed callers the lab staff ring back during the demo; the others stay owed."""

CAMPAIGN_FILE = Path(ringtest.__file__).resolve().parent.parent / "schedules" / "council.yaml"
CAMPAIGN_SLOT_SPACING_SECONDS = 3.0
"""The demo's campaign places one test per target, this far apart, starting now."""


def run_demo(out_dir: Path, console: Console) -> Path:
    """Run the whole demo; return the path of the report's PDF."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "ringtest.db"
    database.unlink(missing_ok=True)
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"})
    with console.status("bringing up the lab PBX"):
        status = lab_up()
    console.print(f"lab PBX up: {status.asterisk_version}")
    campaign = load_campaign(CAMPAIGN_FILE, settings)
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        with StoreWriter(store) as writer:
            stream.subscribe("store", writer.handle)
            listener = BackgroundListener(make_listener(settings, store, stream)).start()
            console.print(f"listener attached to AMI {settings.ami.host}:{settings.ami.port}")
            try:
                _drive_calls(settings, store, stream, campaign, console)
                _wait_for_settling(store, len(CITIZEN_CALLS) + len(campaign.campaign.targets))
            finally:
                listener.stop()
        return _report(settings, store, out_dir, console)


def _drive_calls(
    settings: Settings,
    store: Store,
    stream: RecordStream,
    campaign: CampaignDefinition,
    console: Console,
) -> None:
    """Citizens' calls and the campaign's mystery calls at once, then the staff call-backs."""
    slots = _campaign_slots_from_now(store, campaign)
    total = len(CITIZEN_CALLS) + len(slots) + len(CALLED_BACK)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, console=console) as progress,
        sip_endpoint_for(settings, [campaign]),
    ):
        task = progress.add_task("calls", total=total)
        daemon = CampaignDaemon(settings, store, [campaign], stream=stream)
        daemon.start()
        try:
            with ThreadPoolExecutor(max_workers=len(CITIZEN_CALLS)) as pool:
                for future in [pool.submit(_citizen_call, call) for call in CITIZEN_CALLS]:
                    future.result()
                    progress.advance(task)
            for number in CALLED_BACK:
                lab_call(number, account=STAFFOUT, answer="3000", hold_ms=1500)
                progress.advance(task)
            _wait_for_slots(store, campaign, progress, task)
        finally:
            daemon.stop()


def _campaign_slots_from_now(store: Store, campaign: CampaignDefinition) -> list[RunSlot]:
    """Store the campaign and one slot per target, a few seconds apart from now."""
    now = datetime.now(UTC).replace(microsecond=0)
    name = campaign.campaign.name
    store.save_campaign(
        Campaign(name, campaign.source_path, campaign.sha256, False, now, now, campaign.to_json())
    )
    slots = [
        RunSlot(name, target.name, now + timedelta(seconds=2 + CAMPAIGN_SLOT_SPACING_SECONDS * i))
        for i, target in enumerate(campaign.campaign.targets)
    ]
    store.plan_runs(slots)
    return slots


def _wait_for_slots(store: Store, campaign: CampaignDefinition, progress, task) -> None:
    name = campaign.campaign.name
    counted = 0
    deadline = time.monotonic() + CAMPAIGN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        settled = [s for s in store.runs(campaign=name) if s.status in SETTLED]
        progress.advance(task, len(settled) - counted)
        counted = len(settled)
        if counted == len(campaign.campaign.targets):
            return
        time.sleep(0.2)


def _citizen_call(call: CitizenCall) -> None:
    lab_call(
        call.dial,
        answer=call.answer or None,
        caller=call.caller,
        hold_ms=int(call.hold_seconds * 1000),
        give_up_ms=int(call.give_up_seconds * 1000),
    )


def _wait_for_settling(store: Store, expected_calls: int) -> None:
    deadline = time.monotonic() + CALL_SETTLE_SECONDS
    while len(store.calls()) < expected_calls and time.monotonic() < deadline:
        time.sleep(0.1)


HEADLINE_COLUMNS = {
    "Department": "Department",
    "Calls": "Calls",
    "Answered within 7 rings": "Within 7 rings",
    "Median rings": "Median rings",
    "Missed calls": "Missed",
    "Returned within 1 working day": "Returned in 1 day",
    "Still owed": "Owed",
    "Mystery calls within standard": "Mystery calls OK",
}
"""The headline table's columns the terminal shows, and their short headings."""


def _report(settings: Settings, store: Store, out_dir: Path, console: Console) -> Path:
    """Write this week's report and the raw exports; print the headline figures."""
    zone = ZoneInfo(settings.calendar.timezone)
    year, week, _ = _now().astimezone(zone).isocalendar()
    period = week_period(f"{year}-W{week:02d}", zone)
    data = gather_report(
        settings, store, period.since, period.until, period.title, period.when, now=_now()
    )
    files = write_report(data, out_dir)
    exports = {
        "calls.csv": render(store.calls(), "csv"),
        "ring_tests.csv": render(store.ring_tests(), "csv"),
        "callbacks.csv": render(store.obligations(), "csv"),
    }
    for name, text in exports.items():
        (out_dir / name).write_text(text)
    summary = headline(data)[list(HEADLINE_COLUMNS)]
    table = Table(title=f"{period.title}: headline figures (the full table is in the PDF)")
    for column in HEADLINE_COLUMNS.values():
        table.add_column(column)
    for row in summary.itertuples(index=False):
        table.add_row(*(str(value) for value in row))
    console.print(table)
    console.print("Report:")
    for path in (files.pdf, files.html, files.csv, *files.charts.values()):
        console.print(f"  {path}")
    console.print(
        "Raw data: "
        + ", ".join(str(out_dir / name) for name in exports)
        + f", {out_dir / 'ringtest.db'}"
    )
    return files.pdf


def _now() -> datetime:
    return datetime.now(UTC)
