"""The JSON API for other tools, from the same views as the page (`LiveFeed`).

* ``/api/today``: one row per department: ringing now, longest wait, today's figures;
* ``/api/ringing``: each call ringing now, with its rings and state;
* ``/api/callbacks``: the callback work list and the rows that left it lately;
* ``/api/health``: the listener's health and whether the figures are whole;
* ``/api/calls?since=T``: stored calls that started at or after T (ISO 8601 with a
  zone), oldest first, at most `MAX_CALLS`; numbers masked unless configured.

A bad ``since`` is a 400 with one line naming the parameter and the fix.
"""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from itertools import islice

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analysis.work_list import mask_number
from ringtest.core.records import CallRecord
from ringtest.web.feed import LiveFeed

MAX_CALLS = 1000
"""Calls one `/api/calls` answer holds at most; ask again with a later `since`."""


def json_response(content: object, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status, media_type="application/json")


def api_routes(feed: LiveFeed) -> list[Route]:
    """The `/api/...` routes over `feed` (GET only)."""

    async def today(request: Request) -> Response:
        return json_response({"departments": feed.today()})

    async def ringing(request: Request) -> Response:
        return json_response({"ringing": feed.ringing()})

    async def callbacks(request: Request) -> Response:
        return json_response(feed.callbacks())

    async def health(request: Request) -> Response:
        return json_response(feed.snapshot()["health"])

    async def calls(request: Request) -> Response:
        since = _since(request.query_params.get("since", ""))
        if since is None:
            return json_response(
                {"error": "since must be an ISO 8601 time with a zone, e.g. 2026-12-04T09:00:00Z"},
                400,
            )
        with closing(feed.store.iter_calls(since, None)) as stored:
            rows = list(islice(stored, MAX_CALLS + 1))
        return json_response(
            {
                "calls": [_call_row(call, feed) for call in rows[:MAX_CALLS]],
                "truncated": len(rows) > MAX_CALLS,
            }
        )

    return [
        Route("/api/today", today, methods=["GET"]),
        Route("/api/ringing", ringing, methods=["GET"]),
        Route("/api/callbacks", callbacks, methods=["GET"]),
        Route("/api/health", health, methods=["GET"]),
        Route("/api/calls", calls, methods=["GET"]),
    ]


def _since(text: str) -> datetime | None:
    try:
        since = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return since if since.tzinfo is not None else None


def _call_row(call: CallRecord, feed: LiveFeed) -> dict[str, object]:
    region = feed.board.standards.default_region
    return {
        "call_id": call.call_id,
        "pbx": call.pbx,
        "line": call.line,
        "department": call.department,
        "caller": call.caller if feed.show_numbers else mask_number(call.caller, region),
        "started_at": call.started_at.isoformat(),
        "answered_at": None if call.answered_at is None else call.answered_at.isoformat(),
        "answered_by": call.answered_by.value,
        "ended_at": None if call.ended_at is None else call.ended_at.isoformat(),
        "ring_seconds": call.ring_seconds,
        "rings": call.rings,
        "outcome": call.outcome.value,
        "within_standard": call.within_standard,
        "is_test_call": call.is_test_call,
    }
