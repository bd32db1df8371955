"""Self-billing mandates: the suppliers in whose name the shop may draw up invoices.
Not a fiscal table (the self-billed invoices themselves are journal records).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'self_billing_mandate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=12), nullable=False),
        sa.Column('start_date', sa.String(length=10), nullable=False),
        sa.Column('end_date', sa.String(length=10), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('siren', sa.String(length=9), nullable=False),
        sa.Column('siret', sa.String(length=14), nullable=False),
        sa.Column('vat_number', sa.String(length=20), nullable=False),
        sa.Column('address', sa.String(length=120), nullable=False),
        sa.Column('postcode', sa.String(length=16), nullable=False),
        sa.Column('city', sa.String(length=60), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('electronic_address', sa.String(length=125), nullable=False),
        sa.Column('iban', sa.String(length=34), nullable=False),
        sa.Column('created_at', sa.String(length=27), nullable=False),
        sa.Column('operator', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_self_billing_mandate')),
        sa.UniqueConstraint('prefix', name=op.f('uq_self_billing_mandate_prefix')),
        sa.UniqueConstraint('reference', name=op.f('uq_self_billing_mandate_reference')),
    )


def downgrade() -> None:
    op.drop_table('self_billing_mandate')
