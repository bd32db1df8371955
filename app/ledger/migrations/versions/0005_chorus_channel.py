"""Chorus Pro: public-sector customers, and the channel of each outbox item (not fiscal
tables). Existing customers are private, existing outbox items go to the platform.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:12:41.318205
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_sector', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='pdp', nullable=False))
        batch_op.add_column(sa.Column('platform_status', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.drop_column('platform_status')
        batch_op.drop_column('channel')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('public_sector')
