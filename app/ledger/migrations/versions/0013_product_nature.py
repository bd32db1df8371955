"""Products carry the nature of what they sell (goods, services, not subject to French VAT,
margin scheme), which files each sale under its e-reporting category. Empty means "the
default for the product's VAT rate". Not a fiscal table.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-04 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nature', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('nature')
