"""`[history]`: the PBX's own call history, read to fill the listener's coverage gaps.

When `cdr_file` is set, `ringtest run` and `ringtest listen` fill each gap in
their coverage (the listener down, its link lost, the PBX restarted) from it
after the reconnect (`ringtest.services.gap_fill`). It is Asterisk cdr_csv's
``Master.csv`` (or a copy the PBX host keeps in sync); `ringtest import-cdr`
reads the same layouts. When `cel_file` is set, gaps are filled from it instead:
cel_custom's ``Master.csv``, read as `ringtest import-cel` reads it (exact ring times).

When `import_every_minutes` is set, `ringtest run` and `ringtest campaign run` also
import the PBX's history that often, each time from where the last import stopped
(`import-cel`/`import-cdr --since last`; `ringtest.services.history_import`): from the
CEL (`cel_url`, else `cel_file`), else the CDR (`cdr_url`, else `cdr_file`). With a
database URL (FreePBX's ``mysql+pymysql://.../asteriskcdrdb``) a council that will not
open AMI still gets its figures, minutes late.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ringtest.config.fields import Section


class HistorySettings(Section):
    """`[history]`: where the PBX's CDR and CEL files are.

    cdr_file: Asterisk's ``cdr-csv/Master.csv`` as ringtest can read it; None (and no
        cel_file): gaps are listed but not filled.
    cel_file: Asterisk's ``cel-custom/Master.csv`` as ringtest can read it; when set,
        gaps are filled from it in preference to `cdr_file`.
    times_are_local: the CDR file's times are the calendar's local time (cdr.conf
        ``usegmtime = no``); False: its uniqueids decide, else UTC (as `import-cdr`).
    import_every_minutes: minutes between the daemon's history imports; None: none.
    cdr_url, cel_url: the PBX's CDR and CEL tables as database URLs (FreePBX:
        ``mysql+pymysql://user:password@host:3306/asteriskcdrdb``), for those imports.
    cdr_table, cel_table: the tables' names there.
    """

    cdr_file: Path | None = None
    cel_file: Path | None = None
    times_are_local: bool = False
    import_every_minutes: float | None = Field(default=None, gt=0)
    cdr_url: str | None = None
    cel_url: str | None = None
    cdr_table: str = "cdr"
    cel_table: str = "cel"

    def periodic_source(self) -> tuple[str, str, str] | None:
        """(kind, file or URL, table) the daemon imports every `import_every_minutes`:
        the CEL in preference to the CDR, a URL in preference to a file; None when none
        is set or no import is asked for."""
        if self.import_every_minutes is None:
            return None
        choices = (
            ("CEL", self.cel_url, self.cel_table),
            ("CEL", self.cel_file, self.cel_table),
            ("CDR", self.cdr_url, self.cdr_table),
            ("CDR", self.cdr_file, self.cdr_table),
        )
        return next(
            ((kind, str(where), table) for kind, where, table in choices if where is not None),
            None,
        )
