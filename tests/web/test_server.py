"""The live view's server: a real uvicorn on port 0, spoken to over HTTP."""

from __future__ import annotations

import http.client
import json
import logging
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from ami_listener.obligations import CallbackLedger
from ringtest.config import load_settings
from ringtest.core.errors import ConfigError
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.stream import CallEnded, CallRinging, ObligationChanged
from ringtest.lab.settings import LAB_CONFIG
from ringtest.web.server import WebServer, WebServerError
from tests.store.builders import call_record
from tests.web.conftest import TOKEN, get, utc_now

CALLER = "+441382000141"


def test_the_page_and_its_files_come_from_the_package_with_strict_headers(serve):
    server = serve()
    status, headers, body = get(server, "/")
    assert status == 200 and b'<script src="/static/live.js"' in body
    assert "'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert (headers["x-content-type-options"], headers["x-frame-options"]) == ("nosniff", "DENY")
    status, headers, body = get(server, "/static/live.js")
    assert status == 200 and b"new EventSource" in body
    assert b"http" not in body.replace(b"http.", b"")  # nothing fetched from elsewhere
    assert get(server, "/static/live.css")[0] == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_server_is_read_only(serve, method):
    status, headers, _ = get(serve(), "/api/today", method)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_the_api_serves_the_same_views_as_the_page(serve, feed):
    started = utc_now() - timedelta(seconds=10)
    feed.handle([CallRinging("9.1", "lab", "2002", "Housing", CALLER, False, started)])
    server = serve()
    today = json.loads(get(server, "/api/today")[2])["departments"]
    housing = next(panel for panel in today if panel["department"] == "Housing")
    assert (housing["ringing"], housing["longest_wait_rings"]) == (1, 4)
    [ringing] = json.loads(get(server, "/api/ringing")[2])["ringing"]
    assert (ringing["call_id"], ringing["rings"], ringing["state"]) == ("9.1", 4, "ok")
    assert CALLER not in json.dumps(ringing)
    assert json.loads(get(server, "/api/callbacks")[2]) == {"rows": [], "left": []}
    assert json.loads(get(server, "/api/health")[2])["connected"] is False


def test_calls_since_come_from_the_store_masked(serve, store):
    call = call_record(pbx="lab", caller=CALLER, started_at=utc_now() - timedelta(minutes=5))
    store.save_calls(
        [call, replace(call, call_id="old", started_at=call.started_at.replace(year=2025))]
    )
    server = serve()
    since = (utc_now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    answer = json.loads(get(server, f"/api/calls?since={since}")[2])
    assert [row["call_id"] for row in answer["calls"]] == [call.call_id]
    assert answer["calls"][0]["caller"] == "+44 1382 ••• 141"
    assert answer["truncated"] is False
    status, _, body = get(server, "/api/calls?since=yesterday")
    assert status == 400
    assert json.loads(body) == {
        "error": "since must be an ISO 8601 time with a zone, e.g. 2026-12-04T09:00:00Z"
    }


def read_event(response: http.client.HTTPResponse) -> dict:
    """The next ``snapshot`` event's data on an open event stream."""
    data = b""
    while True:
        line = response.readline()
        if line.startswith(b"data: "):
            data = line[6:]
        elif line == b"\n" and data:
            return json.loads(data)


def test_events_start_with_the_whole_state_and_push_each_change(serve, feed):
    server = serve()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/events")
    response = connection.getresponse()
    try:
        assert response.getheader("content-type").startswith("text/event-stream")
        assert response.readline() == b"retry: 1000\n"
        first = read_event(response)
        assert first["ringing"] == [] and len(first["departments"]) == 12
        pushed_at = time.monotonic()
        feed.handle([CallRinging("9.2", "lab", "2001", "Council Tax", CALLER, False, utc_now())])
        pushed = read_event(response)
        assert time.monotonic() - pushed_at < 1.0  # pushed, not polled
        assert [call["call_id"] for call in pushed["ringing"]] == ["9.2"]
        assert pushed["ringing"][0]["department"] == "Council Tax"
        second_ring = read_event(response)  # the server pushes the ring boundary itself
        assert second_ring["ringing"][0]["rings"] == 2
    finally:
        connection.close()


def test_a_missed_call_shows_on_the_work_list_with_what_the_caller_met(serve, feed):
    ledger = CallbackLedger(feed.board.standards)
    missed = call_record(
        pbx="lab", caller=CALLER, department="Housing", line="2002", outcome=CallOutcome.ABANDONED,
        answered_by=AnsweredBy.NONE, rings=5, is_test_call=False, ended_at=utc_now(),
    )  # fmt: skip
    [obligation] = ledger.on_call(missed)
    feed.handle([CallEnded(missed), ObligationChanged(obligation)])
    [row] = json.loads(get(serve(), "/api/callbacks")[2])["rows"]
    assert (row["caller"], row["department"], row["met"]) == (
        "+44 1382 ••• 141", "Housing", "abandoned after 5 rings",
    )  # fmt: skip


def test_with_a_token_every_request_must_present_it(serve):
    server = serve(token=TOKEN)
    assert get(server, "/")[0] == 401
    assert get(server, "/api/today", headers={"Authorization": "Bearer wrong-token"})[0] == 401
    assert get(server, "/api/today", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    status, headers, _ = get(server, f"/?token={TOKEN}")
    assert (status, headers["location"]) == (303, "/")
    assert headers["set-cookie"].startswith(f"ringtest_token={TOKEN}; HttpOnly; SameSite=Strict")
    assert (
        get(server, "/events", method="HEAD", headers={"Cookie": "ringtest_token=nope"})[0] == 401
    )
    assert get(server, "/api/ringing", headers={"Cookie": f"ringtest_token={TOKEN}"})[0] == 200


def test_on_every_address_requests_without_the_token_are_refused_and_it_is_never_logged(
    serve, caplog
):
    caplog.set_level(logging.DEBUG)
    server = serve(token=TOKEN, bind="0.0.0.0")
    assert get(server, "/api/today")[0] == 401
    assert get(server, f"/api/today?token={TOKEN}")[0] == 303
    assert get(server, "/api/today", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    server.stop()
    assert caplog.records, "the server logged nothing at all: the check would be empty"
    assert not [record for record in caplog.records if TOKEN in record.getMessage()]


def test_a_non_loopback_bind_without_a_token_refuses_to_start_in_one_line(tmp_path):
    settings = load_settings(LAB_CONFIG, overrides={"web.bind": "0.0.0.0"}, environ={})
    with pytest.raises(ConfigError) as refused:
        settings.web.check_exposure()
    assert str(refused.value) == (
        "web.bind = '0.0.0.0' exposes the live view beyond this host without a token: "
        "set web.token (env RINGTEST_WEB__TOKEN) or bind 127.0.0.1"
    )
    short = load_settings(LAB_CONFIG, overrides={"web.token": "short"}, environ={})
    with pytest.raises(ConfigError, match="web.token is 5 characters: use 16 or more"):
        short.web.check_exposure()


def test_a_port_in_use_is_one_line(serve, feed):
    taken = serve()
    with pytest.raises(WebServerError) as refused:
        WebServer(taken.app, "127.0.0.1", taken.port).start()
    assert str(refused.value) == (
        f"the live view cannot listen on 127.0.0.1:{taken.port} (Address already in use): "
        "set web.port to a free port, or web.enabled = false"
    )
