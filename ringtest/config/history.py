"""`[history]`: the PBX's own call history, read to fill the listener's coverage gaps.

When `cdr_file` is set, `ringtest run` and `ringtest listen` fill each gap in
their coverage (the listener down, its link lost, the PBX restarted) from it
after the reconnect (`ringtest.services.gap_fill`). It is Asterisk cdr_csv's
``Master.csv`` (or a copy the PBX host keeps in sync); `ringtest import-cdr`
reads the same layouts.
"""

from __future__ import annotations

from pathlib import Path

from ringtest.config.fields import Section


class HistorySettings(Section):
    """`[history]`: where the PBX's CDR file is.

    cdr_file: Asterisk's ``cdr-csv/Master.csv`` as ringtest can read it; None: gaps
        are listed but not filled.
    times_are_local: the file's times are the calendar's local time (cdr.conf
        ``usegmtime = no``); False: its uniqueids decide, else UTC (as `import-cdr`).
    """

    cdr_file: Path | None = None
    times_are_local: bool = False
