"""trust (imports, adjudication support)

Revision ID: 0006
Revises: 0005

Reserved in the migration chain so that parallel work lands without renumbering;
an empty upgrade is a valid no-op until its change fills it in.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
