"""trust: nested codes from REFI-QDA imports; one error type for the append-only audit log

Revision ID: 0006
Revises: 0005

- ``codes.parent``: the code a code sits under (None: directly under its theme), so a deep
  code tree from NVivo, ATLAS.ti or MAXQDA survives import and export.
- PostgreSQL: the audit-log trigger raises SQLSTATE 23000 (integrity constraint violation),
  which both drivers report as ``IntegrityError``, as SQLite's ``RAISE(ABORT)`` does.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _audit_function(errcode: str | None) -> str:
    using = f" USING ERRCODE = '{errcode}'" if errcode else ""
    return ("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION 'audit_log is append-only'{using}; END $$ LANGUAGE plpgsql")


def upgrade() -> None:
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent', sa.String(length=80), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_audit_function("integrity_constraint_violation"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_audit_function(None))
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_column('parent')
