"""coding (base model): which part decided a machine coding; models switch over atomically

Revision ID: 0005
Revises: 0004

- ``codings.decided_by``: "rule" or "model" - whose decision is final for this
  (segment, code) when rules and model both coded it (NULL for older rows).
- ``models.active``: a model is used only once every segment it re-codes has its
  codings; a killed `train` leaves an inactive artefact, never a half-switched store.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.String(length=20), nullable=True))
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_column('decided_by')
