"""bench/RESULTS.md: each benchmark owns one marked section and rewrites only that.

A section lies between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``.
`write_section` replaces what is between a pair (appending the pair when the
file has none yet), so benchmarks run alone or by ``python -m bench`` never
touch each other's numbers. Quick mode (``RINGTEST_BENCH_QUICK=1``) runs smaller
workloads for a fast check; its numbers are marked as such.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
QUICK_VARIABLE = "RINGTEST_BENCH_QUICK"


def quick_mode() -> bool:
    """True when ``RINGTEST_BENCH_QUICK`` asks for the small, fast workloads."""
    return os.environ.get(QUICK_VARIABLE, "").strip() not in ("", "0")


def machine_line() -> str:
    """``nproc 2, Python 3.11.7, Linux 6.1, 2025-01-01 12:00 UTC`` for a section's header."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = " (quick mode)" if quick_mode() else ""
    return (
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {now}{mode}"
    )


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Put `body` (markdown) between section `name`'s markers in `path`."""
    start, end = markers(name)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    path.write_text(text)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
