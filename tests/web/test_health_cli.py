"""`ringtest health` against the real live view server: the containers' health check.

The server is uvicorn on port 0 over a `LiveFeed` watching a real `ListenerStats`
whose link is opened and closed by hand (a stand-in connection: no socket needed);
the command is ``python -m ringtest health`` in a subprocess, its token from a file
as in the production compose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from ringtest.lab.settings import LAB_CONFIG
from ringtest.web.feed import LiveFeed
from tests.web.conftest import TOKEN, Serve
from tests.web.test_metrics import listener_stats

ROOT = Path(__file__).resolve().parents[2]


def health(url: str, token_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "health", "--url", url],
        cwd=ROOT,
        env={**os.environ, "RINGTEST_WEB__TOKEN_FILE": str(token_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_health_follows_the_listeners_link_with_the_token_from_a_file(
    feed: LiveFeed, serve: Serve, tmp_path: Path
) -> None:
    server = serve(token=TOKEN)
    url = f"http://127.0.0.1:{server.port}/"
    token_file = tmp_path / "web_token"
    token_file.write_text(TOKEN + "\n")
    stats = listener_stats()
    feed.watch_listener(stats)

    stats.link_opened(SimpleNamespace(handler_errors=0, oversize_frames=0, garbage_frames=0))
    connected = health(url, token_file)
    assert connected.returncode == 0, connected.stderr
    assert connected.stdout.startswith("connected to the PBX since ")
    assert connected.stdout.strip().endswith("no event yet")

    stats.link_closed()
    disconnected = health(url, token_file)
    assert disconnected.returncode == 1
    assert disconnected.stderr.count("\n") == 1
    assert "is not connected to the PBX" in disconnected.stderr


def test_health_is_one_line_when_the_token_is_wrong_or_nothing_answers(
    serve: Serve, tmp_path: Path
) -> None:
    server = serve(token=TOKEN)
    wrong_token = tmp_path / "web_token"
    wrong_token.write_text("not-the-token-of-this-server\n")
    refused = health(f"http://127.0.0.1:{server.port}/", wrong_token)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "refused the token" in refused.stderr

    port = server.port
    server.stop()
    unreachable = health(f"http://127.0.0.1:{port}/", wrong_token)
    assert unreachable.returncode == 1
    assert unreachable.stderr.count("\n") == 1
    assert "is not reachable" in unreachable.stderr
