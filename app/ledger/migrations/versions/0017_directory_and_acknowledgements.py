"""The e-invoicing directory's answer kept on each customer (listed or not, routing code,
when asked), the platform's acknowledgement of each deposited outbox item, and what the
platform and the PPF said of each e-reporting flow. None of these tables is fiscal.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-04 20:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('directory_status', sa.String(length=8), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('routing_code', sa.String(length=100), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('directory_checked_at', sa.String(length=27), server_default='',
                      nullable=False)
        )
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_status', sa.String(length=8), nullable=True))
    op.create_table(
        'pdp_report_ack',
        sa.Column('flow_id', sa.String(length=36), nullable=False),
        sa.Column('report_id', sa.String(length=40), nullable=False),
        sa.Column('ack_status', sa.String(length=8), nullable=False),
        sa.Column('ppf_code', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('updated_at', sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint('flow_id', name=op.f('pk_pdp_report_ack')),
    )
    with op.batch_alter_table('pdp_report_ack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdp_report_ack_report_id'), ['report_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pdp_report_ack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdp_report_ack_report_id'))
    op.drop_table('pdp_report_ack')
    with op.batch_alter_table('pdp_outbox', schema=None) as batch_op:
        batch_op.drop_column('ack_status')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('directory_checked_at')
        batch_op.drop_column('routing_code')
        batch_op.drop_column('directory_status')
