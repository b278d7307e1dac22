"""researcher loop (codebook management, metadata, adjudication)

Revision ID: 0007
Revises: 0006

Reserved in the migration chain so that parallel work lands without renumbering;
an empty upgrade is a valid no-op until its change fills it in.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
