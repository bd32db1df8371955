"""The journal of card transactions sent to the payment terminal (Caisse-AP): written
before an amount is sent, so that a payment accepted by the terminal but not yet on a
ticket is found again at the next start. Not a fiscal table.

Revision ID: 0016
Revises: 0023
Create Date: 2026-12-04 21:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'card_transaction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sale_key', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('authorisation', sa.String(length=32), nullable=False),
        sa.Column('card', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('operator', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.String(length=27), nullable=False),
        sa.Column('updated_at', sa.String(length=27), nullable=False),
        sa.Column('ticket_number', sa.Integer(), nullable=True),
        sa.Column('payload', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_transaction')),
    )
    with op.batch_alter_table('card_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_transaction_sale_key'), ['sale_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_transaction_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('card_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_transaction_state'))
        batch_op.drop_index(batch_op.f('ix_card_transaction_sale_key'))
    op.drop_table('card_transaction')
