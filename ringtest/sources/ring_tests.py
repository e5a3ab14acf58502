"""Place ring tests from the configured SIP accounts, publish each result as it ends.

`run_ring_tests` is the one way in: `ringtest call` and campaigns both use it.
For each `RingTestRequest` it picks the `[[sip.accounts]]` entry (the first one by
default), turns the target into a SIP URI (a number or extension is dialled as
``sip:<number>@<registrar host, else domain>``), takes the ring cadence and the
rings standard from the settings (`standards_of`), and places the calls: on this
process's one SIP endpoint when at most `CALLS_PER_PROCESS` are asked for at
once, across a `RingTestPool` of worker processes beyond that. What the far end
says after answering is recorded as evidence (a WAV per test) and decides who
answered; once the calls have ended, a person's greeting is audited (did they
announce the line and greet us) in a worker process. Every result is published
on the record stream (`ringtest.core.stream`) as a `RingTestFinished` the moment
its call ends; the store is one of its subscribers.
A callback request (`RingTestRequest.callback`) gets its number, reference and
message before dialling (`callback_test_requests`); when no person answers, the message
is played into the call and the callback test it opens is saved in the store
directly (the stream has no change for callback tests).

Everything that can be checked before dialling (the account exists, the target
reads as a number or URI, registration succeeds) is checked first and raised as
one-line `SipError`s, so a bad request places no calls at all. A call that then
cannot be placed is stored as `not_placed` with the reason.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from ringtest.config import Settings
from ringtest.config.adapters import standards_of
from ringtest.config.models import SipAccount as SipAccountSettings
from ringtest.core.errors import ConfigError, SipError
from ringtest.core.records import AnsweredBy, RingTestOutcome, RingTestResult
from ringtest.core.standards import Standards, normalise_number
from ringtest.core.stream import RecordStream, RingTestFinished
from ringtest.sip.accounts import SipAccount
from ringtest.sip.caller import PlacedRingTest, place_ring_test
from ringtest.sip.endpoint import CALLS_PER_PROCESS, endpoint_with
from ringtest.sip.ivr import KeyPlan, parse_ivr
from ringtest.sip.pool import RingTestPool
from ringtest.sip.recording import GREETING_RECORD_SECONDS
from ringtest.sources.callback_test_requests import (
    CallbackRequest,
    callback_request,
    numbers_in_use,
    open_if_left,
)
from ringtest.sources.greeting_audits import audit_ring_tests
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

logger = logging.getLogger(__name__)

EXTRA_RINGS_BEYOND_STANDARD = 3
"""rings: a test without max_rings waits this many rings past the standard, so a breach
is measured as one, not cut off at the limit."""

SETUP_SECONDS = 32.0
"""seconds: time for the INVITE to reach a final or ringing state (SIP timer B)
on top of the longest ringing allowed; after it an unfinished call is abandoned."""

MAX_POOL_WORKERS = 5
"""Worker processes at most (5 x 4 calls = 20 ring tests at once); more tests queue."""

_DIAL_STRING = re.compile(r"^\+?[0-9*#]+$")
_NUMBER_PUNCTUATION = re.compile(r"[\s().-]")


@dataclass(frozen=True)
class RingTestRequest:
    """One ring test to place.

    target: an E.164 number (``+441382434001``), a national number or extension
        (``2001``), or a SIP URI (``sip:2001@pbx.example.org``).
    account: the `[[sip.accounts]]` name to call from; None: the first configured.
    max_rings: hang up after this many unanswered rings; None: the standard's
        `answer_within_rings` + `EXTRA_RINGS_BEYOND_STANDARD`.
    callback: leave a callback request when no person answers.
    extra_headers: SIP headers added to the INVITE (e.g. the lab's ``X-Lab-Answer``).
    ivr_keys: the keys that get through the line's menu (``w2 1``, `ringtest.sip.ivr`);
        None: the line is no menu.
    """

    target: str
    department: str = ""
    account: str | None = None
    max_rings: int | None = None
    callback: bool = False
    campaign: str | None = None
    test_id: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    ivr_keys: str | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked request: who calls, which URI, and `place_ring_test`'s options."""

    request: RingTestRequest
    account: SipAccount
    target_uri: str
    options: dict[str, Any]
    callback: CallbackRequest | None = None


def run_ring_tests(
    settings: Settings,
    store: Store,
    requests: Sequence[RingTestRequest],
    *,
    evidence_dir: Path | None = None,
    stream: RecordStream | None = None,
) -> list[RingTestResult]:
    """Place `requests` (all at once, up to 20 in parallel), publish each result on
    `stream` as it ends, then audit what each person who answered said
    (`greeting_audits`, stored); return the results in request order.

    store: read for the callback numbers in use, written for the callback tests opened.
    evidence_dir: where each answered test's recording goes (``<test_id>.wav``);
    None: `default_evidence_dir()`.
    stream: where the `RingTestFinished` changes go; None: a stream of its own with a
    `StoreWriter` on `store`, every result stored before this returns.
    """
    standards = standards_of(settings)
    evidence = evidence_dir if evidence_dir is not None else default_evidence_dir()
    plans = [_plan(settings, standards, request, evidence) for request in requests]
    if not plans:
        return []
    plans = _with_callback_requests(settings, store, plans, evidence)
    with ExitStack() as cleanup:
        if stream is None:
            stream = RecordStream()
            writer = StoreWriter(store)
            cleanup.callback(writer.close)
            stream.subscribe("store", writer.handle)
        results = _place(plans, store, standards, stream)
    audit_ring_tests(settings, store, results)
    return results


def _place(
    plans: list[_Plan], store: Store, standards: Standards, stream: RecordStream
) -> list[RingTestResult]:
    """Place the checked `plans` and publish each result as its call ends."""
    accounts = list({plan.account.name: plan.account for plan in plans}.values())
    results: list[RingTestResult | None] = [None] * len(plans)

    def finished(index: int, placed: Future[PlacedRingTest]) -> None:
        result = _result_of(plans[index], placed)
        stream.publish([RingTestFinished(result)])
        callback = plans[index].callback
        if callback is not None and placed.exception() is None:
            open_if_left(store, result, placed.result(), callback, standards)
        results[index] = result

    if len(plans) <= CALLS_PER_PROCESS:
        with endpoint_with(accounts) as endpoint, ThreadPoolExecutor(len(plans)) as threads:
            futures = {
                threads.submit(
                    place_ring_test, endpoint, plan.account.name, plan.target_uri, **plan.options
                ): index
                for index, plan in enumerate(plans)
            }
            for future in as_completed(futures):
                finished(futures[future], future)
    else:
        workers = min(MAX_POOL_WORKERS, math.ceil(len(plans) / CALLS_PER_PROCESS))
        with RingTestPool(accounts, workers=workers) as pool:
            futures = {
                pool.submit_ring_test(plan.account.name, plan.target_uri, **plan.options): index
                for index, plan in enumerate(plans)
            }
            for future in as_completed(futures):
                finished(futures[future], future)
    return [result for result in results if result is not None]


def default_evidence_dir() -> Path:
    """``evidence/`` in the user data directory, next to the default database."""
    return Path(platformdirs.user_data_dir("ringtest")) / "evidence"


def sip_account(settings: SipAccountSettings) -> SipAccount:
    """The caller's `SipAccount` for one `[[sip.accounts]]` entry (its password read now)."""
    return SipAccount(
        name=settings.name,
        user=settings.user,
        password=settings.password_value() or "",
        domain=settings.domain,
        registrar=settings.registrar if settings.register_ else None,
        transport=settings.transport,
        caller_id=settings.caller_id,
        outbound_proxy=settings.outbound_proxy,
        tls_ca_file=None if settings.tls_ca_file is None else str(settings.tls_ca_file),
    )


def target_uri(target: str, account: SipAccountSettings, default_region: str) -> str:
    """The SIP URI that rings `target` through `account`'s registrar (else its domain).

    A number with a country code, or a national number of `default_region`, is
    dialled in E.164; digits that are no whole number (an extension) as written.
    """
    cleaned = target.strip()
    if cleaned.startswith(("sip:", "sips:")):
        return cleaned
    dial = _NUMBER_PUNCTUATION.sub("", cleaned)
    if not _DIAL_STRING.match(dial):
        raise SipError(
            f"ring test target '{target}' is neither a phone number nor a SIP URI: "
            "write it like +441382434001, 2001 or sip:2001@pbx.example.org"
        )
    try:
        dial = normalise_number(dial, default_region)
    except ValueError:
        if dial.startswith("+"):
            raise SipError(
                f"ring test target '{target}' is not a whole phone number: "
                "write it in E.164, e.g. +441382434001"
            ) from None
    return f"sip:{dial}@{_host_of(account)}"


def _host_of(account: SipAccountSettings) -> str:
    """host[:port] of the account's registrar URI, else its domain."""
    if account.registrar is None:
        return account.domain
    address = account.registrar.split(":", 1)[1].split(";", 1)[0]
    return address.rsplit("@", 1)[-1]


def _plan(
    settings: Settings, standards: Standards, request: RingTestRequest, evidence_dir: Path
) -> _Plan:
    account_settings = account_settings_of(settings, request.account)
    max_rings = (
        request.max_rings
        if request.max_rings is not None
        else standards.ring_rule.answer_within_rings + EXTRA_RINGS_BEYOND_STANDARD
    )
    if max_rings < 1:
        raise SipError(f"max rings {max_rings} for '{request.target}' is too few: use 1 or more")
    test_id = request.test_id or uuid.uuid4().hex
    ring_limit_seconds = max_rings * standards.ring_rule.seconds_per_ring
    key_plan = key_plan_of(request)
    menu_seconds = (
        0.0
        if key_plan is None
        else key_plan.last_press_seconds + ring_limit_seconds + GREETING_RECORD_SECONDS
    )
    return _Plan(
        request=request,
        account=sip_account(account_settings),
        target_uri=target_uri(request.target, account_settings, settings.phone.default_region),
        options={
            "max_rings": max_rings,
            "ring_rule": standards.ring_rule,
            "extra_headers": dict(request.extra_headers),
            "timeout_seconds": ring_limit_seconds + menu_seconds + SETUP_SECONDS,
            "department": request.department,
            "campaign": request.campaign,
            "test_id": test_id,
            "evidence_path": evidence_dir / f"{test_id}.wav",
            "key_plan": key_plan,
        },
    )


def key_plan_of(request: RingTestRequest) -> KeyPlan | None:
    """The request's IVR keys, read; ConfigError naming the target and the fix."""
    if request.ivr_keys is None:
        return None
    try:
        return parse_ivr(request.ivr_keys)
    except ValueError as error:
        raise ConfigError(f"ring test target '{request.target}' ivr {error}") from None


def _with_callback_requests(
    settings: Settings, store: Store, plans: list[_Plan], message_dir: Path
) -> list[_Plan]:
    """`plans` with a `CallbackRequest` (and its message to play) for each callback test."""
    in_use: dict[str, set[str]] = {}
    planned = []
    for plan in plans:
        if not plan.request.callback:
            planned.append(plan)
            continue
        name = plan.account.name
        if name not in in_use:
            in_use[name] = numbers_in_use(store, name)
        request = callback_request(
            settings.sip_account(name), plan.options["test_id"], in_use[name], message_dir
        )
        options = {**plan.options, "message_path": request.message_path}
        planned.append(replace(plan, options=options, callback=request))
    return planned


def account_settings_of(settings: Settings, name: str | None) -> SipAccountSettings:
    """The SIP account called `name` (None: the first); SipError naming the configured
    ones when there is none."""
    accounts = settings.sip.accounts
    if not accounts:
        raise SipError(
            "no SIP account is configured to place ring tests from: add one under [[sip.accounts]]"
        )
    if name is None:
        return accounts[0]
    for account in accounts:
        if account.name == name:
            return account
    known = ", ".join(account.name for account in accounts)
    raise SipError(f"no SIP account is named '{name}': use one of sip.accounts ({known})")


def _result_of(plan: _Plan, placed: Future[PlacedRingTest]) -> RingTestResult:
    request = plan.request
    try:
        result = placed.result().result
    except SipError as error:
        logger.warning("ring test to %s was not placed: %s", request.target, error)
        return RingTestResult(
            test_id=plan.options["test_id"],
            target=request.target,
            account=plan.account.name,
            department=request.department,
            placed_at=datetime.now(UTC),
            outcome=RingTestOutcome.NOT_PLACED,
            answered_by=AnsweredBy.NONE,
            pdd_seconds=None,
            ring_seconds=None,
            tta_seconds=None,
            rings=None,
            within_standard=False,
            sip_code=None,
            reason=str(error),
            campaign=request.campaign,
            callback_requested=request.callback,
            ivr_keys=request.ivr_keys,
        )
    return replace(result, target=request.target, callback_requested=request.callback)
