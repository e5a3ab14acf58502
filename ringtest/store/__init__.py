"""Storage: the one module that owns ringtest's database schema.

`Store.open()` opens SQLite or PostgreSQL (one code path, small dialect
switches), creates the tables in an empty database and refuses a database
written with another `SCHEMA_VERSION`. Records go in and come out as the frozen
records of `ringtest.core.records`; `ringtest.store.writer.StoreWriter` is the
store's subscriber on the record stream.
"""

from ringtest.store.schema import SCHEMA_VERSION
from ringtest.store.store import Store

__all__ = ["SCHEMA_VERSION", "Store"]
