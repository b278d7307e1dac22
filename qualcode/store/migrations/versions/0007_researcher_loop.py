"""researcher loop (codebook management, metadata, adjudication)

Revision ID: 0007
Revises: 0006

- documents.metadata_inferred: which metadata fields were guessed and await confirmation
- codebook_changes: codebook edits with the codings they moved (for undo)
- adjudications: agreed decisions where reviewers disagreed
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata_inferred', sa.JSON(), nullable=True))

    op.create_table('codebook_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('before_version', sa.String(length=40), nullable=True),
    sa.Column('after_version', sa.String(length=40), nullable=False),
    sa.Column('created_codings', sa.JSON(), nullable=False),
    sa.Column('deactivated_codings', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_by', sa.String(length=120), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('adjudications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('adjudicator', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adjudications', schema=None) as batch_op:
        batch_op.create_index('ix_adjudications_segment_code', ['segment_id', 'code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('adjudications', schema=None) as batch_op:
        batch_op.drop_index('ix_adjudications_segment_code')
    op.drop_table('adjudications')
    op.drop_table('codebook_changes')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('metadata_inferred')
