"""search (full-text index)

Revision ID: 0008
Revises: 0007

Reserved in the migration chain so that parallel work lands without renumbering;
an empty upgrade is a valid no-op until its change fills it in.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
