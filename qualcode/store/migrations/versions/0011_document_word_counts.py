"""document word counts: each document's search-index word counts, written by ingest beside its terms

The first report or Analyse page after a run used to count a yearly store's lemmas (3.7 million
words, ~2 s with saving); merging the documents' own counts takes a fraction of that, and the
run's writing process stays small (each document's counts are made by the worker that read it).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_word_counts',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id')
    )


def downgrade() -> None:
    op.drop_table('document_word_counts')
