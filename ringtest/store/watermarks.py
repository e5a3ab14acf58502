"""How far each history source was imported: the watermarks of `--since last`.

A source is a CDR or CEL file, or a database table, named as `import-cdr`/`import-cel`
show it (a URL without its password, then the table). Its watermark is the instant up
to which an import read it (`read_until`, UTC): the next `--since last` import reads
again from a little before it (the importer's overlap), never from the start.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ringtest.store import database, schema
from ringtest.store.store import Store

_watermarks = schema.import_watermarks


def read_until(store: Store, source: str) -> datetime | None:
    """The instant up to which `source` was imported; None when it never was."""
    with store.reading() as connection:
        return connection.execute(
            select(_watermarks.c.read_until).where(_watermarks.c.source == source)
        ).scalar_one_or_none()


def save_read_until(store: Store, source: str, until: datetime, imported_at: datetime) -> None:
    """Record that `source` was imported up to `until` (aware UTC) at `imported_at`."""
    insert = database.BACKENDS[store.engine.dialect.name].insert(_watermarks)
    upsert = insert.on_conflict_do_update(
        index_elements=[_watermarks.c.source],
        set_={"read_until": insert.excluded.read_until, "imported_at": insert.excluded.imported_at},
    )
    with (
        database.database_errors("writing to database", store.url_for_display),
        store.engine.begin() as connection,
    ):
        connection.execute(
            upsert, {"source": source, "read_until": until, "imported_at": imported_at}
        )
