"""One CDR or CEL import, from a file or the PBX's database, whole or continued (`--since`).

`import_history` is what `ringtest import-cdr`/`import-cel` and the daemon's periodic
import (`ringtest.services.history_import`) run. Its `since` is an instant (UTC), or
`SINCE_LAST`: continue from where the last import of the same source stopped. The
source's watermark (`ringtest.store.watermarks`, keyed by `source_key`: the file's
path, or the URL without its password and the table) is the instant up to which it
was read; the next import reads again from `OVERLAP` before it, because rows are
written late:

* CDR: a row is written when its call leg ends, with the leg's start as calldate,
  so a call in progress at an import appears later with an older calldate;
* CEL: rows are written as events happen, and the watermark is already the start of
  the oldest call still in progress (`CelImport.read_until`), so only rows committed
  a little late need the margin.

Reading a margin again is safe: a call already stored is never stored twice. A source
never imported is read whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringtest.config import Settings
from ringtest.core.errors import ReportError
from ringtest.sources.cdr_database import import_cdr_database
from ringtest.sources.cdr_import import CdrImport, import_cdr
from ringtest.sources.cel_database import import_cel_database
from ringtest.sources.cel_import import CelImport, import_cel
from ringtest.sources.history_tables import is_database_url, url_for_display
from ringtest.store import Store, watermarks

SINCE_LAST = "last"
OVERLAP = {"CDR": timedelta(hours=2), "CEL": timedelta(minutes=1)}
"""How far before a source's watermark `--since last` reads again (see the module)."""


@dataclass(frozen=True)
class HistorySource:
    """What to import: `kind` (``CDR`` or ``CEL``), a file path or a database URL, and the
    table when it is a database."""

    kind: str
    location: str
    table: str

    @property
    def is_database(self) -> bool:
        return is_database_url(self.location)

    @property
    def shown(self) -> str:
        """The source as messages name it (a URL without its password)."""
        if self.is_database:
            return f"{url_for_display(self.location)} table {self.table}"
        return self.location

    @property
    def key(self) -> str:
        """The source's name in the store's watermarks."""
        if self.is_database:
            return f"{self.kind} {self.shown}"
        return f"{self.kind} file {Path(self.location).resolve()}"


def import_history(
    source: HistorySource,
    settings: Settings,
    store: Store,
    *,
    since: datetime | str | None = None,
    times_are_local: bool = False,
    on_bytes: Callable[[int], None] = lambda size: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CdrImport | CelImport:
    """Import `source` into `store` from `since` (UTC; `SINCE_LAST`: from its watermark less
    `OVERLAP`; None: whole), then advance its watermark to what was read.

    Raises ReportError, one line, when the source cannot be read."""
    start = _since(source, store, since)
    result = _import(source, settings, store, start, times_are_local, on_bytes)
    if result.read_until is not None:
        watermarks.save_read_until(store, source.key, result.read_until, now())
    return result


def _since(source: HistorySource, store: Store, since: datetime | str | None) -> datetime | None:
    if since != SINCE_LAST:
        return since if isinstance(since, datetime) else None
    read_until = watermarks.read_until(store, source.key)
    return None if read_until is None else read_until - OVERLAP[source.kind]


def _import(
    source: HistorySource,
    settings: Settings,
    store: Store,
    since: datetime | None,
    times_are_local: bool,
    on_bytes: Callable[[int], None],
) -> CdrImport | CelImport:
    local = times_are_local
    if source.is_database:
        read_table = import_cdr_database if source.kind == "CDR" else import_cel_database
        return read_table(
            source.location, settings, store, table=source.table, times_are_local=local,
            since=since,
        )  # fmt: skip
    path = Path(source.location)
    if not path.is_file():
        raise ReportError(
            f"{source.kind} file '{path}' does not exist: give "
            + ("cdr_csv's Master.csv, FreePBX's CDR Reports CSV" if source.kind == "CDR"
               else "cel_custom's Master.csv")
            + " or a database URL"
        )  # fmt: skip
    if source.kind == "CDR":
        return import_cdr(
            path, settings, store, times_are_local=local, since=since, on_bytes=on_bytes
        )
    return import_cel(path, settings, store, since=since, on_bytes=on_bytes)
