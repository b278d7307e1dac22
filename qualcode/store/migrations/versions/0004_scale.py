"""scale (bulk ingest, run state)

Revision ID: 0004
Revises: 0003

A run records who runs it (host, process id) and when it last wrote a document, so
`qualcode status` can tell a run still going from one that was killed, and marks runs
ended by Ctrl-C or TERM as interrupted.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("host", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for column in ("heartbeat_at", "pid", "host", "state"):
            batch.drop_column(column)
