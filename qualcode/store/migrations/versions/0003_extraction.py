"""extraction (OCR pages, table cells)

Revision ID: 0003
Revises: 0002

Reserved in the migration chain so that parallel work lands without renumbering;
an empty upgrade is a valid no-op until its change fills it in.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
