"""Status messages in the platform outbox: each pdp_outbox item gets a kind (the invoice
itself, or its 212 "Encaissée" status), and an invoice may have one item of each kind.
Existing items are invoices. Not a fiscal table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='invoice', nullable=False))
        batch_op.drop_constraint('uq_pdp_outbox_invoice_seq', type_='unique')
        batch_op.create_unique_constraint('uq_pdp_outbox_invoice_seq_kind', ['invoice_seq', 'kind'])


def downgrade() -> None:
    op.execute("DELETE FROM pdp_outbox WHERE kind <> 'invoice'")
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_pdp_outbox_invoice_seq_kind', type_='unique')
        batch_op.create_unique_constraint('uq_pdp_outbox_invoice_seq', ['invoice_seq'])
        batch_op.drop_column('kind')
