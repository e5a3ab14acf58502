"""The PBX's history tables filled from the lab's own files, for the database import tests.

`load_cel` writes the lab run's cel_custom rows (`LAB_CEL`) into a CEL table as cel_odbc or
cel_pgsql would (eventtime a wall time in UTC, as with usegmtime = yes, or in a given zone;
names for event types), in file order; `load_cdr` writes the run's cdr_csv rows
(`LAB_CDR`) into FreePBX's cdr table as cdr_adaptive_odbc would (calldate the start; the
answer is not kept). `import_cli` runs an import as a council does.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy

from bench.history_import import _shifted
from ringtest.core.records import CallRecord
from ringtest.sources.cdr_rows import BASE_COLUMNS
from ringtest.sources.cel_rows import SAMPLE_COLUMNS
from tests.analysis.conftest import LAB_CONFIG

FIXTURES = Path(__file__).parents[1] / "fixtures"
LAB_CEL = FIXTURES / "cel" / "lab_every_line.csv"
LAB_CDR = FIXTURES / "cel" / "lab_every_line_cdr.csv"
FREEPBX_MARIADB = FIXTURES / "cdr_db" / "freepbx_mariadb.sql"
CEL_PGSQL = FIXTURES / "cdr_db" / "cel_pgsql.sql"
CDR_PGSQL = FIXTURES / "cdr_db" / "cdr_pgsql.sql"
AMA_FLAGS = {"OMIT": 1, "BILLING": 2, "DOCUMENTATION": 3}


def create_tables(url: str, ddl: Path) -> None:
    """Run the statements of `ddl` at `url` (SQLite gets an auto-numbered id)."""
    engine = sqlalchemy.create_engine(url)
    text = ddl.read_text()
    if url.startswith("sqlite"):
        text = text.replace("id serial", "id integer primary key")
    with engine.begin() as connection:
        for statement in text.split(";"):
            if "CREATE" in statement:
                connection.exec_driver_sql(statement)
    engine.dispose()


def lab_cel_rows(copy: int = 0) -> list[list[str]]:
    """The lab run's CEL rows; copy N: the run again N hours later with new uniqueids."""
    lines = LAB_CEL.read_text().splitlines()
    if copy:
        lines = [_shifted(line, copy * 3600, copy * 1000, "+441382000199") for line in lines]
    return list(csv.reader(lines))


def load_cel(
    url: str, rows: Sequence[list[str]], table: str = "cel", zone: ZoneInfo | None = None
) -> None:
    """Insert `rows` (cel_custom fields) into `table` at `url`, in order, eventtime as the
    wall time in `zone` (None: UTC)."""
    engine = sqlalchemy.create_engine(url)
    target = sqlalchemy.Table(table, sqlalchemy.MetaData(), autoload_with=engine)
    names = {column.name for column in target.columns}
    records = []
    for fields in rows:
        values = dict(zip(SAMPLE_COLUMNS, fields, strict=True))
        at = datetime.fromtimestamp(float(values["eventtime"]), UTC)
        values["eventtime"] = at.astimezone(zone or UTC).replace(tzinfo=None)
        values["amaflags"] = int(values["amaflags"] or 0)
        values |= {"peeraccount": ""}
        records.append({name: value for name, value in values.items() if name in names})
    with engine.begin() as connection:
        connection.execute(sqlalchemy.insert(target), records)
    engine.dispose()


def load_cdr(url: str, hours_later: int = 0) -> None:
    """Insert the lab run's cdr_csv rows into FreePBX's (or cdr_pgsql's) cdr table at `url`,
    `hours_later` with new uniqueids when not 0."""
    engine = sqlalchemy.create_engine(url)
    target = sqlalchemy.Table("cdr", sqlalchemy.MetaData(), autoload_with=engine)
    names = {column.name for column in target.columns}
    shift = timedelta(hours=hours_later)
    records = []
    for fields in csv.reader(LAB_CDR.read_text().splitlines()):
        values = dict(zip((*BASE_COLUMNS, "uniqueid", "userfield"), fields, strict=True))
        epoch, _, sequence = values["uniqueid"].partition(".")
        values |= {
            "calldate": datetime.fromisoformat(values["start"]) + shift,
            "duration": int(values["duration"]),
            "billsec": int(values["billsec"]),
            "amaflags": AMA_FLAGS[values["amaflags"]],
            "uniqueid": f"{int(epoch) + hours_later * 3600}.{int(sequence) + hours_later * 1000}",
            "peeraccount": "",
            "linkedid": "",
            "sequence": 0,
        }
        records.append({name: value for name, value in values.items() if name in names})
    with engine.begin() as connection:
        connection.execute(sqlalchemy.insert(target), records)
    engine.dispose()


def import_cli(
    command: str, source: str, store_url: str, *options: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), command, source,
         *options],
        capture_output=True, text=True, env={"RINGTEST_DB": store_url},
    )  # fmt: skip


def by_id(calls: Sequence[CallRecord]) -> dict[str, CallRecord]:
    return {call.call_id: call for call in calls}


def same_but_precision(database: CallRecord, file: CallRecord, seconds: float) -> bool:
    """The two are the same call (line, caller, outcome, who answered), their ring times
    within `seconds` (or both unknown)."""
    rings = (database.ring_seconds, file.ring_seconds)
    close = (
        rings[0] is None
        and rings[1] is None
        or (
            None not in rings and abs(rings[0] - rings[1]) <= seconds  # type: ignore[operator]
        )
    )
    return close and (database.line, database.caller, database.outcome, database.answered_by) == (
        file.line, file.caller, file.outcome, file.answered_by
    )  # fmt: skip
