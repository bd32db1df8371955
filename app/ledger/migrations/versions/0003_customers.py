"""Customers (not a fiscal table: invoices keep a copy of the buyer).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:55:09.737460
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('vat_number', sa.String(length=20), nullable=False),
    sa.Column('electronic_address', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('delivery_address', sa.String(length=120), nullable=False),
    sa.Column('delivery_postcode', sa.String(length=16), nullable=False),
    sa.Column('delivery_city', sa.String(length=60), nullable=False),
    sa.Column('delivery_country', sa.String(length=2), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer'))
    )


def downgrade() -> None:
    op.drop_table('customer')
