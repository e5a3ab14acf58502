"""Contract: campaigns upsert and pause; run slots are unique and keep their status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringtest.core.errors import StoreError
from ringtest.core.records import RunSlot, RunStatus
from ringtest.store import Store
from tests.store.builders import MONDAY_9AM, campaign

TUESDAY_9AM = MONDAY_9AM + timedelta(days=1)


def test_campaign_comes_back_equal(store: Store):
    given = campaign()

    store.save_campaign(given)

    assert store.campaigns() == [given]


def test_reloaded_campaign_replaces_its_row_but_keeps_its_creation_time(store: Store):
    store.save_campaign(campaign())
    reloaded = campaign(source_sha256="cd" * 32, created_at=TUESDAY_9AM, updated_at=TUESDAY_9AM)

    store.save_campaign(reloaded)

    assert store.campaigns() == [
        campaign(source_sha256="cd" * 32, created_at=MONDAY_9AM, updated_at=TUESDAY_9AM)
    ]


def test_campaigns_are_listed_by_name(store: Store):
    store.save_campaign(campaign(name="winter"))
    store.save_campaign(campaign(name="autumn"))

    assert [stored.name for stored in store.campaigns()] == ["autumn", "winter"]


def test_pausing_a_campaign_stamps_its_update_time(store: Store):
    store.save_campaign(campaign())

    store.set_campaign_paused("spring", True, at=TUESDAY_9AM)

    assert store.campaigns() == [campaign(paused=True, updated_at=TUESDAY_9AM)]


def test_pausing_an_unknown_campaign_names_it(store: Store):
    with pytest.raises(StoreError) as raised:
        store.set_campaign_paused("sprung", True, at=TUESDAY_9AM)

    assert str(raised.value) == (
        f"no campaign named 'sprung' in database {store.url_for_display}: "
        "check the name against the stored campaigns"
    )


def test_planning_a_slot_twice_stores_it_once_and_keeps_its_status(store: Store):
    store.save_campaign(campaign())
    slot = RunSlot(campaign="spring", target="+441632960100", planned_at=MONDAY_9AM)
    assert store.plan_runs([slot]) == 1
    store.set_run_status("spring", slot.target, MONDAY_9AM, RunStatus.DONE, test_id="rt-0001")

    planned_again = store.plan_runs([slot, slot])

    assert planned_again == 0
    assert store.runs() == [
        RunSlot("spring", slot.target, MONDAY_9AM, RunStatus.DONE, test_id="rt-0001")
    ]


def test_planning_no_slots_plans_nothing(store: Store):
    assert store.plan_runs([]) == 0
    assert store.runs() == []


def test_slots_differing_in_target_or_time_are_distinct(store: Store):
    store.save_campaign(campaign())
    slots = [
        RunSlot("spring", "+441632960100", MONDAY_9AM),
        RunSlot("spring", "+441632960200", MONDAY_9AM),
        RunSlot("spring", "+441632960100", MONDAY_9AM + timedelta(minutes=30)),
    ]

    assert store.plan_runs(slots) == 3
    assert store.runs() == [slots[0], slots[1], slots[2]]


def test_slot_that_was_not_placed_keeps_its_reason(store: Store):
    store.save_campaign(campaign())
    store.plan_runs([RunSlot("spring", "+441632960100", MONDAY_9AM)])

    store.set_run_status(
        "spring",
        "+441632960100",
        MONDAY_9AM,
        RunStatus.NOT_PLACED,
        reason="missed its window: caller was down",
    )

    [stored] = store.runs(status=RunStatus.NOT_PLACED)
    assert stored == RunSlot(
        "spring",
        "+441632960100",
        MONDAY_9AM,
        RunStatus.NOT_PLACED,
        test_id=None,
        reason="missed its window: caller was down",
    )
    assert type(stored.status) is RunStatus


def test_runs_filter_by_campaign_status_and_period(store: Store):
    store.save_campaign(campaign(name="spring"))
    store.save_campaign(campaign(name="autumn"))
    store.plan_runs(
        [
            RunSlot("spring", "a", MONDAY_9AM),
            RunSlot("spring", "b", TUESDAY_9AM, RunStatus.FAILED, reason="SIP 503"),
            RunSlot("autumn", "a", MONDAY_9AM + timedelta(hours=1)),
        ]
    )

    def keys(**filters: object) -> list[tuple[str, str]]:
        return [(run.campaign, run.target) for run in store.runs(**filters)]

    assert keys(campaign="spring") == [("spring", "a"), ("spring", "b")]
    assert keys(status=RunStatus.PLANNED) == [("spring", "a"), ("autumn", "a")]
    assert keys(since=MONDAY_9AM, until=TUESDAY_9AM) == [("spring", "a"), ("autumn", "a")]
    assert keys(campaign="autumn", status=RunStatus.FAILED) == []


def test_status_of_an_unplanned_slot_is_refused(store: Store):
    store.save_campaign(campaign())

    with pytest.raises(StoreError) as raised:
        store.set_run_status("spring", "+441632960100", MONDAY_9AM, RunStatus.PLACED)

    assert str(raised.value) == (
        "no run of campaign 'spring' to '+441632960100' planned at 2025-03-03T09:00:00+00:00 "
        f"in database {store.url_for_display}: plan the run before recording its status"
    )


def test_slot_of_an_unknown_campaign_is_refused_and_nothing_of_the_plan_is_stored(
    store: Store,
):
    store.save_campaign(campaign())

    with pytest.raises(StoreError) as raised:
        store.plan_runs([RunSlot("spring", "a", MONDAY_9AM), RunSlot("sprung", "a", MONDAY_9AM)])

    assert str(raised.value) == (
        f"writing to database {store.url_for_display} failed: a campaign run names a campaign "
        "that is not stored: save the campaign before planning its runs"
    )
    assert store.runs() == []


def test_a_campaign_keeps_its_definition(store: Store):
    given = campaign(definition='{"campaign": {"name": "spring"}}')

    store.save_campaign(given)

    assert store.campaigns() == [given]


def test_a_slot_keeps_whether_it_is_a_callback_test_and_when_it_started(store: Store):
    store.save_campaign(campaign())
    store.plan_runs([RunSlot("spring", "a", MONDAY_9AM, callback=True)])

    assert store.claim_run("spring", "a", MONDAY_9AM, test_id="rt-7", at=TUESDAY_9AM)

    assert store.runs() == [
        RunSlot(
            "spring",
            "a",
            MONDAY_9AM,
            RunStatus.PLACED,
            test_id="rt-7",
            callback=True,
            started_at=TUESDAY_9AM,
        )
    ]


def test_only_a_planned_slot_can_be_claimed_or_skipped(store: Store):
    store.save_campaign(campaign())
    store.plan_runs([RunSlot("spring", "a", MONDAY_9AM), RunSlot("spring", "b", MONDAY_9AM)])

    assert store.claim_run("spring", "a", MONDAY_9AM, test_id="rt-1", at=MONDAY_9AM)
    assert not store.claim_run("spring", "a", MONDAY_9AM, test_id="rt-2", at=MONDAY_9AM)
    assert not store.skip_run("spring", "a", MONDAY_9AM, "missed")
    assert store.skip_run("spring", "b", MONDAY_9AM, "campaign paused")
    assert not store.claim_run("spring", "b", MONDAY_9AM, test_id="rt-3", at=MONDAY_9AM)

    assert [(run.status, run.test_id, run.reason) for run in store.runs()] == [
        (RunStatus.PLACED, "rt-1", ""),
        (RunStatus.NOT_PLACED, None, "campaign paused"),
    ]


def test_replanning_drops_only_future_planned_slots_missing_from_the_new_plan(store: Store):
    store.save_campaign(campaign())
    past = RunSlot("spring", "a", MONDAY_9AM)
    ran = RunSlot("spring", "a", TUESDAY_9AM)
    kept = RunSlot("spring", "b", TUESDAY_9AM)
    dropped = RunSlot("spring", "c", TUESDAY_9AM)
    store.plan_runs([past, ran, kept, dropped])
    store.set_run_status("spring", "a", TUESDAY_9AM, RunStatus.DONE, test_id="rt-1")
    new = RunSlot("spring", "d", TUESDAY_9AM + timedelta(hours=1))

    assert store.replan_runs("spring", [kept, new], since=TUESDAY_9AM, drop_others=True) == (1, 1)
    assert store.replan_runs("spring", [kept, new], since=TUESDAY_9AM, drop_others=True) == (0, 0)

    assert [(run.target, run.status) for run in store.runs()] == [
        ("a", RunStatus.PLANNED),
        ("a", RunStatus.DONE),
        ("b", RunStatus.PLANNED),
        ("d", RunStatus.PLANNED),
    ]


def test_replanning_without_dropping_only_adds(store: Store):
    store.save_campaign(campaign())
    store.plan_runs([RunSlot("spring", "c", TUESDAY_9AM)])

    added = store.replan_runs(
        "spring", [RunSlot("spring", "d", TUESDAY_9AM)], since=MONDAY_9AM, drop_others=False
    )

    assert added == (1, 0)
    assert [run.target for run in store.runs()] == ["c", "d"]
