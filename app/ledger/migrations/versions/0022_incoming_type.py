"""A received invoice keeps its type (BT-3: invoice, credit note, self-billed invoice…) and
the name of its buyer, so that a self-billed invoice drawn up by a customer in the shop's
name is shown as such. Not a fiscal table.

Revision ID: 0022
Revises: 0013
Create Date: 2026-12-04 20:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pdp_incoming_invoice', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('type_code', sa.String(length=3), nullable=False, server_default='380')
        )
        batch_op.add_column(
            sa.Column('buyer_name', sa.String(length=200), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('pdp_incoming_invoice', schema=None) as batch_op:
        batch_op.drop_column('buyer_name')
        batch_op.drop_column('type_code')
