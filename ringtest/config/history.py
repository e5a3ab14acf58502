"""`[history]`: the PBX's own call history, read to fill the listener's coverage gaps.

When `cdr_file` is set, `ringtest run` and `ringtest listen` fill each gap in
their coverage (the listener down, its link lost, the PBX restarted) from it
after the reconnect (`ringtest.services.gap_fill`). It is Asterisk cdr_csv's
``Master.csv`` (or a copy the PBX host keeps in sync); `ringtest import-cdr`
reads the same layouts. When `cel_file` is set, gaps are filled from it instead:
cel_custom's ``Master.csv``, read as `ringtest import-cel` reads it (exact ring times).
"""

from __future__ import annotations

from pathlib import Path

from ringtest.config.fields import Section


class HistorySettings(Section):
    """`[history]`: where the PBX's CDR and CEL files are.

    cdr_file: Asterisk's ``cdr-csv/Master.csv`` as ringtest can read it; None (and no
        cel_file): gaps are listed but not filled.
    cel_file: Asterisk's ``cel-custom/Master.csv`` as ringtest can read it; when set,
        gaps are filled from it in preference to `cdr_file`.
    times_are_local: the CDR file's times are the calendar's local time (cdr.conf
        ``usegmtime = no``); False: its uniqueids decide, else UTC (as `import-cdr`).
    """

    cdr_file: Path | None = None
    cel_file: Path | None = None
    times_are_local: bool = False
