"""Ring-test campaigns: YAML files in `schedules/`, planned, then run unattended.

`source` reads and validates a file (every mistake one ``FILE:LINE:`` line) into a
`model.CampaignDefinition`; `plan` turns it, the working calendar and an ISO week
into the exact calls (pure, seeded, reproducible); `daemon` keeps APScheduler's
jobs and the stored slots in step; `runs` runs one slot and records its outcome;
`status` sums up where each campaign stands.
"""
