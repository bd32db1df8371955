"""Products may have a picture for the till's tile: the name of a small PNG kept in the
data folder. Not a fiscal table.

Revision ID: 0024
Revises: 0017
Create Date: 2026-12-04 22:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('image')
