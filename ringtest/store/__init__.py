"""Storage: the one module that owns ringtest's database schema.

`Store.open()` opens SQLite or PostgreSQL (one code path, small dialect
switches), creates the tables in an empty database, and refuses (or, asked to,
upgrades with Alembic: `ringtest.store.migrate`) a database of another schema
revision. Records go in and come out as the frozen records of
`ringtest.core.records`; `ringtest.store.writer.StoreWriter` is the store's
subscriber on the record stream.
"""

from ringtest.store.store import Store

__all__ = ["Store"]
