"""The greeting audit of ring tests just placed: what their answerers said, stored.

`audit_ring_tests` runs after a batch of ring tests has ended. Every test answered
by a person whose evidence WAV exists is transcribed and judged
(`ringtest.sip.greeting_audit`) in one worker process: pocketsphinx's decoding
holds the interpreter while it runs, and in a process of its own it cannot delay
the SIP endpoint's thread (its timestamps) in this one. A line's `announce`
phrases are those of the `[[lines]]` entry of the ring test's department, else the
department's name; the greeting phrases are `standards.greeting_phrases`. Each
audit is saved in the store; one that fails is logged with its test id and skipped.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path

from ringtest.config import Settings
from ringtest.core.records import AnsweredBy, GreetingAudit, RingTestResult
from ringtest.sip.greeting_audit import audit_wav
from ringtest.store import Store

logger = logging.getLogger(__name__)


def announce_phrases(settings: Settings, department: str) -> list[str]:
    """What the line of `department` should say: its `announce` phrases, else its name."""
    for line in settings.lines:
        if line.department.casefold() == department.casefold() and line.announce:
            return list(line.announce)
    return [department] if department else []


def auditable(result: RingTestResult) -> bool:
    """Whether `result` has a person's greeting on record to audit."""
    return (
        result.answered_by is AnsweredBy.PERSON
        and result.evidence_path is not None
        and Path(result.evidence_path).is_file()
    )


def audit_ring_tests(
    settings: Settings, store: Store, results: Sequence[RingTestResult]
) -> list[GreetingAudit]:
    """Audit each auditable result in a worker process and save the audits; return them."""
    chosen = [result for result in results if auditable(result)]
    if not chosen:
        return []
    audits = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as worker:
        futures: dict[Future, RingTestResult] = {
            worker.submit(
                audit_wav,
                Path(result.evidence_path),
                announce_phrases(settings, result.department),
                list(settings.standards.greeting_phrases),
            ): result
            for result in chosen
        }
        for future in as_completed(futures):
            test_id = futures[future].test_id
            try:
                transcript, announced_name, greeted = future.result()
            except Exception as error:  # the audit is evidence, never the ring test itself
                logger.warning("greeting audit of ring test %s failed: %s", test_id, error)
                continue
            audit = GreetingAudit(test_id, transcript, announced_name, greeted, datetime.now(UTC))
            store.save_greeting_audit(audit)
            audits.append(audit)
    return audits
