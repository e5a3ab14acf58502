"""Whether a gap fill's passes are over.

`gap_fills.passes_over`: false while the daemon still has passes to run over the
gap's history, true once they are over. A fill saved before this revision is read
as not over, so its gap is filled once more at the next start (passes are
idempotent: nothing is imported twice).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "gap_fills",
        sa.Column("passes_over", sa.Boolean, nullable=False, server_default=sa.false()),
    )
