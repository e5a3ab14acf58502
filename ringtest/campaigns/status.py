"""Where each campaign stands, per target: what `ringtest campaign status` shows.

Pure over the stored slots: counts by status, the next planned call after `now`,
and the last reason a slot was not placed or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ringtest.core.records import Campaign, RunSlot, RunStatus


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One target of one campaign.

    skipped: slots recorded NOT_PLACED (missed, paused, not placeable).
    in_progress: slots claimed and being placed now.
    next_call: the earliest PLANNED slot at or after now (UTC), None if none.
    last_problem: the reason of the latest skipped or failed slot.
    """

    campaign: str
    target: str
    paused: bool
    planned: int
    in_progress: int
    done: int
    failed: int
    skipped: int
    next_call: datetime | None
    last_problem: str

    @property
    def settled(self) -> int:
        """Slots that will not change any more."""
        return self.done + self.failed + self.skipped

    @property
    def total(self) -> int:
        return self.settled + self.planned + self.in_progress


def campaign_status(
    campaigns: Sequence[Campaign], slots: Sequence[RunSlot], now: datetime
) -> list[TargetStatus]:
    """Per campaign (by name) and target (by name): counts, next call, last problem."""
    paused = {campaign.name: campaign.paused for campaign in campaigns}
    by_target: dict[tuple[str, str], list[RunSlot]] = {}
    for slot in slots:
        by_target.setdefault((slot.campaign, slot.target), []).append(slot)
    rows = []
    for (campaign, target), mine in sorted(by_target.items()):
        count = {status: sum(slot.status == status for slot in mine) for status in RunStatus}
        upcoming = [
            slot.planned_at
            for slot in mine
            if slot.status == RunStatus.PLANNED and slot.planned_at >= now
        ]
        problems = [
            slot
            for slot in mine
            if slot.status in (RunStatus.NOT_PLACED, RunStatus.FAILED) and slot.reason
        ]
        rows.append(
            TargetStatus(
                campaign=campaign,
                target=target,
                paused=paused.get(campaign, False),
                planned=count[RunStatus.PLANNED],
                in_progress=count[RunStatus.PLACED],
                done=count[RunStatus.DONE],
                failed=count[RunStatus.FAILED],
                skipped=count[RunStatus.NOT_PLACED],
                next_call=min(upcoming, default=None),
                last_problem=max(problems, key=lambda slot: slot.planned_at).reason
                if problems
                else "",
            )
        )
    return rows
