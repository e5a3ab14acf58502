"""Opening a database: which URL, which engine settings per backend, and what errors mean.

The URL comes from the caller, else the `RINGTEST_DB` environment variable, else
an SQLite file in the user's data directory. The data directory is made 0700 and
a new SQLite file is created 0600 (`ringtest.core.private_files`): they hold caller
numbers. Two backends are supported and they
differ only in the small table `BACKENDS`: SQLite gets WAL mode, a busy timeout
and foreign keys on every connection; PostgreSQL gets a connect timeout and a
liveness check before a pooled connection is reused.

Every database failure leaves here as one `StoreError` line naming the database
(password hidden), what went wrong and the fix; `database_errors` does that, from
the table `FAILURES` of driver messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, StatementError

from ringtest.core.errors import StoreError
from ringtest.core.private_files import create_private_file, data_directory, make_private_directory

URL_ENV_VAR = "RINGTEST_DB"
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

_FIX_URL = (
    f"set {URL_ENV_VAR} to a sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB URL"
)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; NORMAL sync is durable enough in WAL mode."""
    for pragma in (
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys = ON",
    ):
        dbapi_connection.execute(pragma)


@dataclass(frozen=True)
class Backend:
    """What differs between the supported databases."""

    default_driver: str
    insert: Callable[..., Any]
    engine_options: dict[str, Any] = field(default_factory=dict)
    on_connect: Callable[[Any, Any], None] | None = None


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(
        default_driver="sqlite",
        insert=sqlite.insert,
        on_connect=_set_sqlite_pragmas,
    ),
    "postgresql": Backend(
        default_driver="postgresql+psycopg",
        insert=postgresql.insert,
        engine_options={
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        },
    ),
}

# (pattern in the driver's message, what went wrong, the fix); first match wins.
FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        r"connection refused",
        "nothing accepts connections there",
        f"start PostgreSQL (as root: scripts/postgres-up) or set {URL_ENV_VAR} to a running server",
    ),
    (
        r"password authentication failed|no password supplied",
        "the server refused the user or password",
        f"fix the user and password in {URL_ENV_VAR}",
    ),
    (
        r'database ".*" does not exist',
        "that database does not exist on the server",
        f"create it (createdb) or fix the database name in {URL_ENV_VAR}",
    ),
    (
        r"could not translate host name|name or service not known",
        "the host name does not resolve",
        f"fix the host in {URL_ENV_VAR}",
    ),
    (
        r"timeout expired",
        "the server did not answer in time",
        f"check the host, the port and any firewall on the way to it in {URL_ENV_VAR}",
    ),
    (
        r"unable to open database file",
        "the file cannot be created or opened",
        f"make its directory writable or set {URL_ENV_VAR} to a writable path",
    ),
    (
        r"readonly database",
        "the file is read-only",
        f"make the file and its directory writable or set {URL_ENV_VAR} to a writable path",
    ),
    (
        r"permission denied|read-only transaction",
        "the user may not write to it",
        f"grant the user in {URL_ENV_VAR} the right to write ringtest's tables",
    ),
    (
        r"database or disk is full|no space left on device",
        "the disk is full",
        "free space on its disk (rows stored before this write are intact)",
    ),
    (
        r"database is locked",
        "another process held the write lock too long",
        "stop the other process writing to it, then retry",
    ),
    (
        r"file is not a database",
        "the file is not an SQLite database",
        f"set {URL_ENV_VAR} to a ringtest database file",
    ),
    (
        r"foreign key",
        "a campaign run names a campaign that is not stored",
        "save the campaign before planning its runs",
    ),
)


_BAD_PORT = (
    f"has a port that is not a number from 1 to 65535: fix the port in {URL_ENV_VAR} "
    "(or store.url), e.g. postgresql+psycopg://USER:PASSWORD@localhost:5432/DB"
)


def _port_out_of_range(parsed: URL) -> bool:
    return parsed.port is not None and not 1 <= parsed.port <= 65535


def _at_sign_in_host(parsed: URL) -> bool:
    return "@" in (parsed.host or "")


# (what is wrong with a URL that parsed, the problem and its fix); first match wins.
_URL_PROBLEMS: tuple[tuple[Callable[[URL], bool], str], ...] = (
    (_port_out_of_range, _BAD_PORT),
    (
        _at_sign_in_host,
        f"has an '@' in its password or host: write '@' in the password as %40 in "
        f"{URL_ENV_VAR} (or store.url)",
    ),
)


def _without_password(text: str) -> str:
    """`text` with everything from the user's ':' to the last '@' shown as ***."""
    return re.sub(r"^([\w+]+://[^:/@]*):.*@", r"\1:***@", text)


def resolve_url(url: str | None) -> URL:
    """The URL to open: `url`, else $RINGTEST_DB, else SQLite in the user data directory."""
    text = url or os.environ.get(URL_ENV_VAR) or _default_sqlite_url()
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise StoreError(f"database URL {text!r} is not a URL: {_FIX_URL}") from None
    except ValueError:
        raise StoreError(f"database URL {_without_password(text)!r} {_BAD_PORT}") from None
    for broken, problem in _URL_PROBLEMS:
        if broken(parsed):
            raise StoreError(f"database URL {_without_password(text)!r} {problem}")
    backend = BACKENDS.get(parsed.get_backend_name())
    if backend is None:
        raise StoreError(
            f"database {parsed.render_as_string(hide_password=True)} uses "
            f"{parsed.get_backend_name()}, which ringtest does not support: {_FIX_URL}"
        )
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=backend.default_driver)
    return parsed


def _default_sqlite_url() -> str:
    return f"sqlite:///{data_directory() / 'ringtest.db'}"


def display(url: URL) -> str:
    """The URL as shown to people: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def create_store_engine(url: URL) -> Engine:
    """An engine for `url` with its backend's settings; SQLite's directory and a new
    file are created private."""
    backend = BACKENDS[url.get_backend_name()]
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _make_private_file(url)
    try:
        engine = create_engine(url, hide_parameters=True, **backend.engine_options)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise StoreError(f"opening database {display(url)} failed: {error}: {_FIX_URL}") from None
    if backend.on_connect is not None:
        event.listen(engine, "connect", backend.on_connect)
    return engine


def _make_private_file(url: URL) -> None:
    """Create the SQLite file's directory (0700 when new) and the file itself (0600) if
    missing: SQLite would create it with the process's umask, and its WAL and shared-memory
    files copy the database file's mode."""
    path = Path(url.database or "")
    directory = path.parent
    try:
        make_private_directory(directory)
    except OSError as error:
        raise StoreError(
            f"opening database {display(url)} failed: cannot create directory {directory} "
            f"({error.strerror}): make it writable or set {URL_ENV_VAR} to a writable path"
        ) from None
    with suppress(OSError):  # SQLite then names what stops it opening the file (FAILURES)
        create_private_file(path)


@contextmanager
def database_errors(action: str, url_display: str) -> Iterator[None]:
    """Turn driver errors inside the block into one StoreError line for `action`.

    A ValueError raised while binding parameters (a naive datetime) is a bug in
    the caller, not in the database, and is re-raised as that ValueError.
    """
    try:
        yield
    except DBAPIError as error:
        raise StoreError(failure_message(action, url_display, error.orig)) from error
    except StatementError as error:
        if isinstance(error.orig, ValueError):
            raise error.orig from None
        raise


def failure_message(action: str, url_display: str, driver_error: BaseException) -> str:
    """`{action} {database} failed: {what went wrong}: {fix}` from the FAILURES table."""
    text = str(driver_error)
    for pattern, what, fix in FAILURES:
        if re.search(pattern, text, re.IGNORECASE):
            return f"{action} {url_display} failed: {what}: {fix}"
    first_line = text.strip().splitlines()[0] if text.strip() else type(driver_error).__name__
    return (
        f"{action} {url_display} failed: {first_line}: "
        f"check that {URL_ENV_VAR} names a working ringtest database"
    )


CREATING_COMMANDS = "listen, replay, run, campaign run, import-cdr, call and callbacks-wait"
"""The commands that create a missing database; every other one only reads an existing one."""


def missing_database_message(url_display: str, what: str = "does not exist") -> str:
    """One line: the database `url_display` `what`, and how to name the right one."""
    return (
        f"database {url_display} {what}: check {URL_ENV_VAR} or store.url for a typo "
        f"(only {CREATING_COMMANDS} create a new database)"
    )


def sqlite_file_missing(url: URL) -> bool:
    """Whether `url` is an SQLite file (not in memory) that does not exist yet."""
    return (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database or "").exists()
    )
