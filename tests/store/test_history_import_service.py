"""The daemon's periodic history import on FreePBX's real MariaDB: each run adds what the PBX
wrote since the last, a failed run is one log line, and `[history]` decides whether it is
hosted."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ringtest.config import Settings, load_settings
from ringtest.services.assembly import DaemonPlan, build_host
from ringtest.services.history_import import HistoryImportService
from ringtest.services.host import DaemonHost
from ringtest.sources.history_import import HistorySource
from ringtest.sources.history_tables import url_for_display
from ringtest.store import Store
from tests.analysis.conftest import LAB_CONFIG
from tests.conftest import wait_until
from tests.store.history_tables import FREEPBX_MARIADB, create_tables, lab_cel_rows, load_cel


def with_history(**history: object) -> Settings:
    settings = load_settings(LAB_CONFIG)
    return settings.model_copy(update={"history": settings.history.model_copy(update=history)})


@pytest.mark.mariadb
def test_each_run_imports_what_the_pbx_wrote_since_the_last(
    mariadb_database_url: str, tmp_path: Path
) -> None:
    create_tables(mariadb_database_url, FREEPBX_MARIADB)
    load_cel(mariadb_database_url, lab_cel_rows(0))
    settings = with_history(cel_url=mariadb_database_url, import_every_minutes=5)

    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        service = HistoryImportService.configured(settings, store)
        assert service is not None
        host = DaemonHost([service])
        host.start()
        wait_until(lambda: service.runs >= 1, seconds=30.0)
        after_start = len(store.calls())
        load_cel(mariadb_database_url, lab_cel_rows(1))
        service.import_once()
        host.stop()

        assert host.failures == {}
        assert after_start == 12
        assert len(store.calls()) == 24
        assert service.every_seconds == 300.0


@pytest.mark.mariadb
def test_a_failed_run_is_one_line_without_the_password_and_the_next_run_still_comes(
    mariadb_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refused = make_url(mariadb_database_url).set(password="wrong-s3cret")
    url = refused.render_as_string(hide_password=False)
    settings = with_history(cel_url=url, import_every_minutes=0.0002)

    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        service = HistoryImportService.configured(settings, store)
        assert service is not None
        host = DaemonHost([service])
        with caplog.at_level(logging.ERROR):
            host.start()
            wait_until(lambda: service.runs >= 2, seconds=30.0)
            host.stop()

    assert host.failures == {}
    failed = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(failed) >= 2
    assert failed[0].startswith(
        f"history import from {url_for_display(url)} table cel did not run: CEL database "
    )
    assert "wrong-s3cret" not in caplog.text


def test_the_service_is_hosted_only_when_import_every_minutes_is_set(tmp_path: Path) -> None:
    every = with_history(cel_file=tmp_path / "Master.csv", import_every_minutes=5)
    never = with_history(cel_file=tmp_path / "Master.csv")

    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        hosted = [
            s.name for s in build_host(every, store, DaemonPlan(history_import=True)).services
        ]
        plain = [s.name for s in build_host(never, store, DaemonPlan(history_import=True)).services]
        not_asked = [s.name for s in build_host(every, store, DaemonPlan()).services]

    assert (hosted, plain, not_asked) == ([f"history import {every.ami.pbx}"], [], [])


def test_the_cel_is_preferred_and_a_url_to_a_file() -> None:
    settings = with_history(
        cdr_url="mysql+pymysql://u:p@h/asteriskcdrdb",
        cel_file=Path("/var/log/asterisk/cel-custom/Master.csv"),
        cel_url="mysql+pymysql://u:p@h/asteriskcdrdb",
        import_every_minutes=5,
    )
    cdr_only = with_history(cdr_file=Path("/var/log/asterisk/cdr-csv/Master.csv"),
                            import_every_minutes=5)  # fmt: skip

    assert settings.history.periodic_source() == (
        "CEL", "mysql+pymysql://u:p@h/asteriskcdrdb", "cel"
    )  # fmt: skip
    assert HistorySource(*cdr_only.history.periodic_source()).key == (
        "CDR file /var/log/asterisk/cdr-csv/Master.csv"
    )
