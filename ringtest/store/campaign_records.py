"""The stored side of a campaign: its definition's provenance and its planned run slots.

A campaign is defined in a file; the store keeps where that file was and its hash
(so a changed file is noticed), whether the campaign is paused, and one `RunSlot`
per target per planned instant. A slot that never turned into a ring test keeps
an explicit status (`NOT_PLACED`, with a reason) rather than vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RunStatus(StrEnum):
    """Where one planned ring test of a campaign stands."""

    PLANNED = "planned"
    PLACED = "placed"
    DONE = "done"
    NOT_PLACED = "not_placed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign as loaded from its definition file.

    source_sha256: hex SHA-256 of the definition file's bytes when last loaded.
    created_at / updated_at: UTC instants of the first and the latest save.
    definition: the validated campaign as JSON (`ringtest.campaigns.model`), with
        its windows and calendar resolved: everything its plan depends on.
    """

    name: str
    source_path: str
    source_sha256: str
    paused: bool
    created_at: datetime
    updated_at: datetime
    definition: str = ""


@dataclass(frozen=True, slots=True)
class RunSlot:
    """One ring test a campaign plans to place at `planned_at` (UTC) to `target`.

    test_id: the `RingTestResult.test_id` once the test was placed.
    reason: why the slot was not placed or failed; empty otherwise.
    callback: the test asks for a call back when no person answers.
    started_at: when (UTC) the slot was claimed to place its test; None until then.
    """

    campaign: str
    target: str
    planned_at: datetime
    status: RunStatus = RunStatus.PLANNED
    test_id: str | None = None
    reason: str = ""
    callback: bool = False
    started_at: datetime | None = None
