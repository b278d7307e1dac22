"""segment reviews

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segment_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('segment_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_segment_reviews_segment', ['segment_id', 'reviewer'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('segment_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_reviews_segment')

    op.drop_table('segment_reviews')
