"""Where each CDR/CEL history source was last read to.

`import_watermarks`: one row per source (a file, or a database URL without its
password and the table), with the instant up to which `ringtest import-cdr` /
`import-cel --since last` read it and when. A source without a row is read whole.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "import_watermarks",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("read_until", INSTANT, nullable=False),
        sa.Column("imported_at", INSTANT, nullable=False),
    )
