"""Storage: the one module that owns ringtest's database schema.

`Store.open()` opens SQLite or PostgreSQL (one code path, small dialect
switches), creates the tables in an empty database and refuses a database
written with another `SCHEMA_VERSION`. Records go in and come out as the frozen
records of `ringtest.records` (and the campaign records defined here).
"""

from ringtest.store.callback_test_records import (
    CallbackMatch,
    CallbackTest,
    CallbackTestStatus,
)
from ringtest.store.campaign_records import Campaign, RunSlot, RunStatus
from ringtest.store.schema import SCHEMA_VERSION
from ringtest.store.store import Store

__all__ = [
    "CallbackMatch",
    "CallbackTest",
    "CallbackTestStatus",
    "SCHEMA_VERSION",
    "Campaign",
    "RunSlot",
    "RunStatus",
    "Store",
]
