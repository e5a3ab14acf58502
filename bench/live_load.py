"""Live load: sipp calls into the lab PBX at rising rates, ringtest listening, checked against CDR.

For each rate, sipp places calls into the lab (`bench.lab_traffic`: from the
`citizen` account to 2001 and 2002, answered after 200-500 ms, held 1 s), each
rate presenting its own lab citizen number.

ringtest's listener runs throughout as the demo runs it
(`BackgroundListener(make_listener(...))`, examples/lab.toml, a temp SQLite
store). Afterwards every call in Asterisk's own CDR (``Master.csv``, only rows
written during this run, of this rate's caller) is matched with the stored
record of the same Linkedid (the CDR's uniqueid is the caller channel's, which
is the Linkedid): matched when the record exists, agrees on answered or not,
and its `answered_at` is within 1 s of the CDR's answer time (CDR times are
whole seconds).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.lab_traffic import HOLD_MS, cdr_calls, cdr_path, matches, place_calls
from bench.results import machine_line, quick_mode, table, write_section
from ringtest.config import load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.pbx import lab_up
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

RATES_PER_SECOND, SECONDS_PER_RATE = (5, 10, 20, 40), 20
QUICK_RATES_PER_SECOND, QUICK_SECONDS_PER_RATE = (5, 20), 8
FIRST_CALLER = 181
"""Rate n presents +4413820001(81+n): lab citizen numbers the demo does not use."""
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class RateResult:
    rate: int
    placed: int
    sipp_ok: int
    sipp_failed: int
    cdr_calls: int
    records: int
    matched: int
    sipp_error: str

    @property
    def match_share(self) -> float:
        return self.matched / self.cdr_calls if self.cdr_calls else 0.0


def measure_rate(rate: int, seconds: int, caller: str, store: Store, cdr_path: Path) -> RateResult:
    placed = rate * seconds
    from_byte = cdr_path.stat().st_size
    ok, failed, sipp_error = place_calls(rate, placed, caller)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        truth = cdr_calls(cdr_path, from_byte, caller)
        records = {r.call_id: r for r in store.calls() if r.caller == caller}
        settled = len(truth) >= ok + failed and set(truth) <= set(records)
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    matched = sum(matches(records.get(uniqueid), call) for uniqueid, call in truth.items())
    return RateResult(rate, placed, ok, failed, len(truth), len(records), matched, sipp_error)


def main() -> None:
    """Run the live load benchmark against the lab PBX and write its section of RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    quick = quick_mode()
    rates = QUICK_RATES_PER_SECOND if quick else RATES_PER_SECOND
    seconds = QUICK_SECONDS_PER_RATE if quick else SECONDS_PER_RATE
    lab_up()
    cdr = cdr_path()
    results = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-live-") as work:
        settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{work}/live.db"})
        stream = RecordStream()
        with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
            stream.subscribe("store", writer.handle)
            listener = BackgroundListener(make_listener(settings, store, stream)).start()
            try:
                for n, rate in enumerate(rates):
                    caller = f"+4413820001{FIRST_CALLER + n}"
                    results.append(measure_rate(rate, seconds, caller, store, cdr))
            finally:
                listener.stop()
                writer.close()
    elapsed = time.monotonic() - started
    sustained = [r.rate for r in results if r.sipp_failed == 0 and r.sipp_ok == r.placed]
    rows = [
        (
            r.rate,
            r.placed,
            r.sipp_ok,
            r.sipp_failed,
            r.cdr_calls,
            r.records,
            r.matched,
            f"{r.match_share:.1%}",
            f"`{r.sipp_error}`" if r.sipp_error else "",
        )
        for r in results
    ]
    section = "\n\n".join(
        [
            "## Live load on the lab PBX, checked against Asterisk's CDR",
            "Command: `.venv/bin/python -m bench.live_load` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; took {elapsed:.0f} s.",
            f"sipp from `citizen` to 2001/2002, staff answer after 200-500 ms, hold {HOLD_MS} ms, "
            f"{seconds} s per rate; ringtest's listener attached throughout (SQLite store).",
            table(
                [
                    "calls/s",
                    "placed",
                    "sipp ok",
                    "sipp failed",
                    "CDR calls",
                    "records",
                    "matched",
                    "match share",
                    "sipp's most frequent error",
                ],
                rows,
            ),
            "Highest rate sustained (every call completed, none failed): "
            f"**{max(sustained) if sustained else 'none'} calls/s**.",
        ]
    )
    write_section("live-load", section)
    print(section)


if __name__ == "__main__":
    main()
