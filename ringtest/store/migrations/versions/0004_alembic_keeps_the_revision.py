"""Alembic keeps the schema's revision; schema_version is 3 for good.

Alembic keeps the schema's revision from here on; `schema_version` is set to 3 for
good, so a ringtest from before Alembic (it knew versions 1 and 2) refuses the
database instead of writing into a schema it does not know.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE schema_version SET version = 3")
