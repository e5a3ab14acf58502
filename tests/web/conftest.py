"""A live feed over a fresh store with the lab's lines, and a real server on port 0."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringtest.config import Settings, load_settings
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store
from ringtest.web.app import build_web_app
from ringtest.web.feed import LiveFeed
from ringtest.web.server import WebServer, feed_for
from tests.analysis.conftest import browser  # noqa: F401 (headless Chromium, shared)

TOKEN = "s3cret-token-for-the-wall-screen"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        LAB_CONFIG, overrides={"store.url": f"sqlite:///{tmp_path / 'ringtest.db'}"}, environ={}
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings.store_url()) as store:
        yield store


@pytest.fixture
def feed(settings: Settings, store: Store) -> LiveFeed:
    feed = feed_for(settings, store)
    feed.seed()
    feed.refresh_day()
    return feed


Serve = Callable[..., WebServer]


@pytest.fixture
def serve(feed: LiveFeed) -> Iterator[Serve]:
    """Start a real uvicorn on a free port; every server started is stopped after the test."""
    started: list[WebServer] = []

    def start(token: str | None = None, bind: str = "127.0.0.1") -> WebServer:
        server = WebServer(build_web_app(feed, token), bind, 0).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def get(
    server: WebServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def utc_now() -> datetime:
    return datetime.now(UTC)
