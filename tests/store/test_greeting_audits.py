"""Contract: a ring test's greeting audit round-trips and is replaced when audited again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

from ringtest.core.records import GreetingAudit, Heard
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM

AUDIT = GreetingAudit(
    test_id="t-1",
    transcript="good morning housing",
    announced_name=Heard.YES,
    greeted=Heard.YES,
    audited_at=MONDAY_9AM,
)


def test_a_greeting_audit_comes_back_equal_by_its_test_id(store: Store):
    store.save_greeting_audit(AUDIT)
    store.save_greeting_audit(replace(AUDIT, test_id="t-2", announced_name=Heard.UNSURE))

    stored = store.greeting_audit("t-1")
    assert stored == AUDIT
    assert type(stored.announced_name) is Heard
    assert stored.audited_at.tzinfo is UTC
    assert store.greeting_audit("t-2").announced_name is Heard.UNSURE
    assert store.greeting_audit("t-3") is None


def test_a_greeting_audited_again_replaces_its_row(store: Store):
    store.save_greeting_audit(AUDIT)
    again = replace(AUDIT, greeted=Heard.NO, audited_at=MONDAY_9AM + timedelta(minutes=1))
    store.save_greeting_audit(again)
    assert store.greeting_audit("t-1") == again
