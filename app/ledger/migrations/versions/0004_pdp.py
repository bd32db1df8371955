"""Platform connector: outbox, lifecycle statuses, sync cursors, incoming invoices
(not fiscal tables).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:20:09.496862
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pdp_incoming_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sa.String(length=36), nullable=False),
    sa.Column('received_at', sa.String(length=32), nullable=False),
    sa.Column('syntax', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('original', sa.LargeBinary(), nullable=False),
    sa.Column('supplier_name', sa.String(length=200), nullable=False),
    sa.Column('supplier_siren', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=35), nullable=False),
    sa.Column('issue_date', sa.String(length=10), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=True),
    sa.Column('validation', sa.String(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdp_incoming_invoice')),
    sa.UniqueConstraint('flow_id', name=op.f('uq_pdp_incoming_invoice_flow_id'))
    )
    op.create_table('pdp_invoice_lifecycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_seq', sa.Integer(), nullable=True),
    sa.Column('doc_number', sa.String(length=35), nullable=False),
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('issued_at', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('flow_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdp_invoice_lifecycle')),
    sa.UniqueConstraint('flow_id', name=op.f('uq_pdp_invoice_lifecycle_flow_id'))
    )
    with op.batch_alter_table('pdp_invoice_lifecycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdp_invoice_lifecycle_doc_number'), ['doc_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_pdp_invoice_lifecycle_invoice_seq'), ['invoice_seq'], unique=False)

    op.create_table('pdp_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_seq', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=35), nullable=False),
    sa.Column('tracking_id', sa.String(length=36), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.String(length=27), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('flow_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.String(length=27), nullable=False),
    sa.Column('updated_at', sa.String(length=27), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdp_outbox')),
    sa.UniqueConstraint('invoice_seq', name=op.f('uq_pdp_outbox_invoice_seq')),
    sa.UniqueConstraint('tracking_id', name=op.f('uq_pdp_outbox_tracking_id'))
    )
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_pdp_outbox_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('pdp_sync_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_pdp_sync_cursor'))
    )


def downgrade() -> None:
    op.drop_table('pdp_sync_cursor')
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_pdp_outbox_due')

    op.drop_table('pdp_outbox')
    with op.batch_alter_table('pdp_invoice_lifecycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdp_invoice_lifecycle_invoice_seq'))
        batch_op.drop_index(batch_op.f('ix_pdp_invoice_lifecycle_doc_number'))

    op.drop_table('pdp_invoice_lifecycle')
    op.drop_table('pdp_incoming_invoice')
