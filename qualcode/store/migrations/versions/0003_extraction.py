"""extraction (OCR pages, table cells)

Revision ID: 0003
Revises: 0002

``document_tables``: every extracted table with its cells, so the review app can show a
table row in its table.  ``ocr_pages``: the pages whose text came from OCR, with
Tesseract's mean word confidence.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('page_start', sa.Integer(), nullable=False),
    sa.Column('page_end', sa.Integer(), nullable=False),
    sa.Column('header_rows', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('document_tables', schema=None) as batch_op:
        batch_op.create_index('ix_document_tables_document_start', ['document_id', 'start'], unique=False)

    op.create_table('ocr_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'page')
    )


def downgrade() -> None:
    op.drop_table('ocr_pages')
    with op.batch_alter_table('document_tables', schema=None) as batch_op:
        batch_op.drop_index('ix_document_tables_document_start')
    op.drop_table('document_tables')
