"""Records as text: a table for people, CSV and JSON for tools (`render`).

Column names are the records' field names: the stable export schema the README
documents. Datetimes are written as ISO 8601 UTC; in the table they are shown
in the configured local time zone.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _for_people(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(_plain(value))


def render(
    records: Sequence[Any],
    output_format: str,
    columns: Sequence[str] | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """`records` (dataclasses) as a table (only `columns`), CSV or JSON (every field)."""
    rows = [dataclasses.asdict(record) for record in records]
    if output_format == "json":
        return json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], indent=2)
    if output_format == "csv":
        buffer = io.StringIO()
        names = [field.name for field in dataclasses.fields(records[0])] if records else []
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
        return buffer.getvalue()
    return _table(rows, columns, zone or ZoneInfo("UTC"))


def _table(rows: list[dict[str, Any]], columns: Sequence[str] | None, zone: ZoneInfo) -> str:
    if not rows:
        return "(none)"
    shown = list(columns or rows[0])
    table = Table(*shown)
    for row in rows:
        table.add_row(*(_for_people(row[name], zone) for name in shown))
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()
