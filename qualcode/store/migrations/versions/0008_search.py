"""search: the segments' search terms, their full-text index, and saved searches as pattern proposals

Revision ID: 0008
Revises: 0007

SQLite gets an FTS5 table over ``search_terms`` (external content, kept in step by
triggers, so a deleted segment leaves its index entry with it). PostgreSQL gets one GIN
index over the weighted tsvector of the four columns (A lemmas, B heads, C tails, D
parts; ``qualcode.search.backends`` builds the matching tsquery). Other databases search
``search_terms`` without an index.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ("lemmas", "heads", "tails", "parts")
PG_VECTOR = ("setweight(to_tsvector('simple', lemmas), 'A') || setweight(to_tsvector('simple', heads), 'B') || "
             "setweight(to_tsvector('simple', tails), 'C') || setweight(to_tsvector('simple', parts), 'D')")


def upgrade() -> None:
    op.create_table('search_terms',
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lemmas', sa.Text(), nullable=False),
    sa.Column('heads', sa.Text(), nullable=False),
    sa.Column('tails', sa.Text(), nullable=False),
    sa.Column('parts', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id')
    )
    op.create_table('search_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('patterns', sa.JSON(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('search_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_search_proposals_code_status', ['code', 'status'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        cols = ", ".join(COLUMNS)
        new = ", ".join(f"new.{c}" for c in COLUMNS)
        old = ", ".join(f"old.{c}" for c in COLUMNS)
        op.execute(f"CREATE VIRTUAL TABLE search_fts USING fts5({cols}, content='search_terms', "
                   "content_rowid='segment_id', tokenize='unicode61 remove_diacritics 0')")
        insert = f"INSERT INTO search_fts(rowid, {cols}) VALUES (new.segment_id, {new});"
        delete = f"INSERT INTO search_fts(search_fts, rowid, {cols}) VALUES ('delete', old.segment_id, {old});"
        op.execute(f"CREATE TRIGGER search_terms_ai AFTER INSERT ON search_terms BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER search_terms_ad AFTER DELETE ON search_terms BEGIN {delete} END")
        op.execute(f"CREATE TRIGGER search_terms_au AFTER UPDATE ON search_terms BEGIN {delete} {insert} END")
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_search_terms_fts ON search_terms USING GIN (({PG_VECTOR}))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("search_terms_ai", "search_terms_ad", "search_terms_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_terms_fts")
    with op.batch_alter_table('search_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_search_proposals_code_status')
    op.drop_table('search_proposals')
    op.drop_table('search_terms')
