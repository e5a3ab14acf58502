"""The live view as `ringtest run` and `ringtest listen` host it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from ringtest.core.stream import CallEnded, RecordStream
from ringtest.lab.settings import LAB_CONFIG
from ringtest.services.assembly import DaemonPlan, build_host
from ringtest.web.app import build_web_app
from ringtest.web.server import WebService
from tests.conftest import wait_until
from tests.store.builders import call_record
from tests.web.conftest import get, utc_now

ROOT = Path(__file__).resolve().parents[2]


def test_the_service_serves_and_rereads_today_when_the_store_took_a_call(settings, store, feed):
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"port": 0})})
    service = WebService(settings, feed, build_web_app(feed))
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    try:
        server = wait_until(lambda: service.server, failing="the live view did not start")

        def housing_offered() -> int:
            today = json.loads(get(server, "/api/today")[2])["departments"]
            return next(p for p in today if p["department"] == "Housing").get("offered", 0)

        assert housing_offered() == 0
        call = call_record(
            pbx="lab", department="Housing", line="2002", is_test_call=False,
            started_at=utc_now() - timedelta(minutes=1),
        )  # fmt: skip
        store.save_calls([call])
        feed.stored([CallEnded(call)])
        assert wait_until(lambda: housing_offered() == 1, 10, "today was not re-read")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_the_daemon_hosts_the_live_view_beside_the_listener_unless_disabled(settings, store):
    hosted = build_host(settings, store, DaemonPlan(listen=True))
    off = settings.model_copy(update={"web": settings.web.model_copy(update={"enabled": False})})
    assert [s.name for s in hosted.services] == ["web", "listener"]
    assert [s.name for s in build_host(off, store, DaemonPlan(listen=True)).services] == [
        "listener"
    ]
    assert [s.name for s in build_host(settings, store, DaemonPlan(retention=True)).services] == [
        "retention"
    ]


def test_listen_bound_beyond_this_host_without_a_token_refuses_to_start_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "RINGTEST_DB": f"sqlite:///{tmp_path}/x.db",
             "RINGTEST_WEB__BIND": "0.0.0.0"},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "ringtest: web.bind = '0.0.0.0' exposes the live view beyond this host without a "
        "token: set web.token (env RINGTEST_WEB__TOKEN) or bind 127.0.0.1"
    )
    assert "Traceback" not in done.stderr


def test_config_check_names_an_exposed_live_view_as_a_problem(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "config", "check"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "RINGTEST_WEB__BIND": "192.0.2.10"},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [
        "1 problems:",
        "  web.bind = '192.0.2.10' exposes the live view beyond this host without a token: "
        "set web.token (env RINGTEST_WEB__TOKEN) or bind 127.0.0.1",
    ]


def test_the_daemon_serves_metrics_on_the_live_view_behind_its_token(settings, store):
    """`ringtest run`/`listen`'s web service answers /metrics from calls on its stream,
    and, with a token, only to a scraper that sends it."""
    web = settings.web.model_copy(update={"port": 0, "token": SecretStr("scrape-me-0123456789")})
    settings = settings.model_copy(update={"web": web})
    stream = RecordStream()
    host = build_host(settings, store, DaemonPlan(listen=True), stream)
    (service,) = [s for s in host.services if s.name == "web"]
    call = call_record(
        pbx="lab", department="Housing", line="2002", is_test_call=False,
        started_at=utc_now() - timedelta(minutes=1),
    )  # fmt: skip
    stream.publish([CallEnded(call)])
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    try:
        server = wait_until(lambda: service.server, failing="the web service did not start")
        refused, _headers, _body = get(server, "/metrics")
        status, headers, body = get(
            server, "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
        )
    finally:
        stop.set()
        thread.join(10)
    assert refused == 401
    assert status == 200 and headers["content-type"].startswith("text/plain")
    housing = 'department="Housing",line="2002",outcome="answered",pbx="lab",source="live"'
    assert f"ringtest_calls_total{{{housing}}} 1.0" in body.decode()
