"""scale (bulk ingest, run state)

Revision ID: 0004
Revises: 0003

Reserved in the migration chain so that parallel work lands without renumbering;
an empty upgrade is a valid no-op until its change fills it in.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
