"""Run every benchmark (each ``bench/*.py`` module with a ``main()``) and time the whole run.

``python -m bench`` runs them all; ``python -m bench ami_replay live_load`` runs
those named; ``--quick`` (or ``RINGTEST_BENCH_QUICK=1``) runs the small
workloads. Each benchmark rewrites its own section of bench/RESULTS.md; this
writes the summary section with the machine and the total time.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

import bench
from bench.results import QUICK_VARIABLE, machine_line, quick_mode, table, write_section


def benchmark_names() -> list[str]:
    """Every module of the bench package that has a ``main()``, in name order."""
    names = []
    for module in pkgutil.iter_modules([str(Path(bench.__file__).parent)]):
        if not module.name.startswith("_") and hasattr(
            importlib.import_module(f"bench.{module.name}"), "main"
        ):
            names.append(module.name)
    return sorted(names)


def main(argv: list[str]) -> int:
    if "--quick" in argv:
        os.environ[QUICK_VARIABLE] = "1"
    wanted = [arg for arg in argv if not arg.startswith("-")] or benchmark_names()
    sys.argv = sys.argv[:1]
    timings = []
    started = time.monotonic()
    for name in wanted:
        began = time.monotonic()
        importlib.import_module(f"bench.{name}").main()
        timings.append((name, f"{time.monotonic() - began:.0f}"))
    total = time.monotonic() - started
    command = ".venv/bin/python -m bench" + (" --quick" if quick_mode() else "")
    write_section(
        "summary",
        "\n\n".join(
            [
                "## This run",
                f"Command: `{command}` (`make bench`); quick mode: `--quick` or "
                f"`{QUICK_VARIABLE}=1`. Machine: {machine_line()}.",
                f"`{' '.join(wanted)}` took **{total:.0f} s** in all:",
                table(["benchmark", "seconds"], timings),
            ]
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
