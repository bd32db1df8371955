"""Invoice drafts: an invoice being written is kept when its editor is closed, to be
resumed or deleted. Not a fiscal table.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 20:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invoice_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.String(length=27), nullable=False),
        sa.Column('updated_at', sa.String(length=27), nullable=False),
        sa.Column('operator', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('invoice_draft')
