"""SIP ring-test accuracy: measured ring time against the truth, one at a time and 20 at once.

The truth is the pause a sipp UAS makes between its 180 Ringing and its 200 OK
(``X-Ring-Ms``, the tests' ``ring_then_answer`` scenario), and, through the lab
PBX, the lab staff agent's ``X-Lab-Answer`` delay. Error is measured minus
truth, in milliseconds. Rows: sequential calls on one endpoint, 20 concurrent
calls through a `RingTestPool` (5 processes x 4 calls), and sequential calls
through the lab's Asterisk over UDP and over TLS (port 5061, trusting the lab's
self-signed certificate). Goal: p99 |error| <= 20 ms.

Run: ``.venv/bin/python -m bench.sip_accuracy`` (quick mode: RINGTEST_BENCH_QUICK=1).
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.results import machine_line, quick_mode, table, write_section
from ringtest.core.standards import RingRule
from ringtest.lab.accounts import ANSWER_HEADER, CITIZEN, LAB_HOST, SIP_PORT
from ringtest.lab.pbx import lab_up
from ringtest.lab.tls import SIP_TLS_PORT
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import place_ring_test
from ringtest.sip.endpoint import SipEndpoint
from ringtest.sip.pool import RingTestPool

SECTION = "sip-accuracy"
SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "sip" / "scenarios"
DELAYS_SECONDS = (1.0, 2.0, 3.5, 5.0, 8.0, 12.0, 17.0, 21.0, 25.0)
QUICK_DELAYS_SECONDS = (1.0, 2.5, 5.0)
CONCURRENT_CALLS = 20
CADENCE = {"ring_rule": RingRule(seconds_per_ring=3.0, answer_within_rings=7)}
GOAL_P99_MS = 20.0


def main() -> None:
    """Measure every row and rewrite this benchmark's section of bench/RESULTS.md."""
    delays = QUICK_DELAYS_SECONDS if quick_mode() else DELAYS_SECONDS
    rows = []
    with sipp_uas("ring_then_answer") as uas_port:
        tester = SipAccount(name="tester", user="tester")
        with SipEndpoint() as endpoint:
            endpoint.add_account(tester)
            rows.append(("sequential, sipp UAS", sequential(endpoint, uas_port, delays)))
            lab = lab_up()
            endpoint.add_account(
                SipAccount(name="citizen", user=CITIZEN.username, password=CITIZEN.secret)
            )
            endpoint.add_account(
                SipAccount(
                    name="citizen-tls",
                    user=CITIZEN.username,
                    password=CITIZEN.secret,
                    transport="tls",
                    tls_ca_file=str(lab.tls_ca_file),
                )
            )
            rows.append(("sequential, lab Asterisk (2001)", through_lab(endpoint, delays)))
            rows.append(
                (
                    "sequential, lab Asterisk over TLS (2001)",
                    through_lab(endpoint, delays, account="citizen-tls", port=SIP_TLS_PORT),
                )
            )
        concurrent_delays = [delays[i % len(delays)] for i in range(CONCURRENT_CALLS)]
        rows.append(("20 concurrent, sipp UAS", concurrent(tester, uas_port, concurrent_delays)))
    body = report(rows, delays)
    write_section(SECTION, body)
    print(body)


def sequential(endpoint: SipEndpoint, port: int, delays: Sequence[float]) -> list[float]:
    """Errors (ms) of one call per delay to the sipp UAS, one after another."""
    errors = []
    for delay in delays:
        placed = place_ring_test(
            endpoint,
            "tester",
            f"sip:desk@127.0.0.1:{port}",
            max_rings=20,
            extra_headers={"X-Ring-Ms": str(round(delay * 1000))},
            answered_hold_seconds=0.1,
            timeout_seconds=delay + 10,
            **CADENCE,
        )
        errors.append(_error_ms(placed.result.ring_seconds, delay))
    return errors


def through_lab(
    endpoint: SipEndpoint,
    delays: Sequence[float],
    account: str = "citizen",
    port: int = SIP_PORT,
) -> list[float]:
    """Errors (ms) of one call per delay to lab extension 2001 (staff1 answers on cue),
    from `account` to the lab's SIP `port`."""
    errors = []
    for delay in delays:
        placed = place_ring_test(
            endpoint,
            account,
            f"sip:2001@{LAB_HOST}:{port}",
            max_rings=20,
            extra_headers={ANSWER_HEADER: str(round(delay * 1000))},
            answered_hold_seconds=0.1,
            timeout_seconds=delay + 10,
            **CADENCE,
        )
        errors.append(_error_ms(placed.result.ring_seconds, delay))
    return errors


def concurrent(account: SipAccount, port: int, delays: Sequence[float]) -> list[float]:
    """Errors (ms) of len(delays) calls placed at once through a pool."""
    with RingTestPool([account], workers=CONCURRENT_CALLS // 4) as pool:
        futures = [
            pool.submit_ring_test(
                account.name,
                f"sip:desk{number}@127.0.0.1:{port}",
                max_rings=20,
                extra_headers={"X-Ring-Ms": str(round(delay * 1000))},
                answered_hold_seconds=0.1,
                timeout_seconds=delay + 10,
                **CADENCE,
            )
            for number, delay in enumerate(delays)
        ]
        placed = [future.result() for future in futures]
    return [
        _error_ms(p.result.ring_seconds, delay) for p, delay in zip(placed, delays, strict=True)
    ]


def report(rows: Sequence[tuple[str, list[float]]], delays: Sequence[float]) -> str:
    """The markdown section: one row per way of calling, errors in ms."""
    lines = [
        "## SIP ring-test accuracy",
        "",
        "Command: `.venv/bin/python -m bench.sip_accuracy`.",
        "",
        f"Machine: {machine_line()}.",
        "",
        f"Truth: the answering agent's ring delay; delays {', '.join(f'{d:g}' for d in delays)} s "
        f"(the 20 concurrent calls cycle through them). Error = measured ring time - truth. "
        f"Goal: p99 |error| <= {GOAL_P99_MS:g} ms.",
        "",
        "",
    ]
    body = []
    for name, errors in rows:
        absolute = sorted(abs(error) for error in errors)
        body.append(
            (
                name,
                len(errors),
                f"{statistics.median(errors):+.1f}",
                f"{_percentile(absolute, 50):.1f}",
                f"{_percentile(absolute, 99):.1f}",
                f"{absolute[-1]:.1f}",
                "yes" if _percentile(absolute, 99) <= GOAL_P99_MS else "no",
            )
        )
    header = ("calls", "n", "median error ms", "p50 abs ms", "p99 abs ms", "max abs ms", "goal met")
    return "\n".join(lines) + table(header, body)


def _error_ms(measured_seconds: float | None, truth_seconds: float) -> float:
    if measured_seconds is None:
        raise RuntimeError(f"a {truth_seconds:g} s call was not answered: is the peer up?")
    return (measured_seconds - truth_seconds) * 1000


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


@contextmanager
def sipp_uas(scenario: str) -> Iterator[int]:
    """A sipp UAS running tests/sip/scenarios/<scenario>.xml on a free loopback port."""
    port, media_port = _free_udp_port(), _free_udp_port()
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-sipp-") as work:
        process = subprocess.Popen(
            [
                "sipp",
                *("-sf", str(SCENARIO / f"{scenario}.xml")),
                *("-i", "127.0.0.1", "-ci", "127.0.0.1", "-p", str(port)),
                *("-mi", "127.0.0.1", "-mp", str(media_port)),
                *("-timer_resol", "1"),
                "-nostdin",
            ],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not _udp_port_in_use(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sipp {scenario} did not start on 127.0.0.1:{port}")
                time.sleep(0.01)
            yield port
        finally:
            process.kill()
            process.wait(timeout=5)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _udp_port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


if __name__ == "__main__":
    main()
