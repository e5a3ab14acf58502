"""Ring tests that navigate a menu (IVR) to a person.

`ring_tests` gains, all nullable (None for a line that is not a menu): the keys
pressed (`ivr_keys`, e.g. ``w2 1``), the time in the menu (`ivr_seconds`), the
ringing heard after the last key (`ring_seconds_after_ivr`, `rings_after_ivr`) and
the time to a person (`to_person_seconds`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ring_tests", sa.Column("ivr_keys", sa.String))
    op.add_column("ring_tests", sa.Column("ivr_seconds", sa.Float))
    op.add_column("ring_tests", sa.Column("ring_seconds_after_ivr", sa.Float))
    op.add_column("ring_tests", sa.Column("rings_after_ivr", sa.Integer))
    op.add_column("ring_tests", sa.Column("to_person_seconds", sa.Float))
