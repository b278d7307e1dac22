"""coding scores index: the review queue and the analysis read machine scores from the index alone

A yearly store holds ~450,000 codings; the queue reads the current model's ~200,000 scores and
the analysis the applied machine codings. Without this index both scan the whole table with
its evidence JSON (0.45 s); from this covering index, 0.2 s.

Revision ID: 0010
Revises: 0009
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_codings_source_scores', 'codings',
                    ['source', 'model_version', 'active', 'segment_id', 'code', 'score', 'applied'])


def downgrade() -> None:
    op.drop_index('ix_codings_source_scores', table_name='codings')
