"""Ledger core tables, append-only from the first migration on.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 17:00:42.473389
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Fiscal tables never change once written: these triggers abort any UPDATE or DELETE.
# They guard against bugs; the hash chain and the signatures are the real protection.
FISCAL_TABLES = ("ledger_meta", "signing_key", "journal", "journal_vat", "journal_payment")
# PostgreSQL: one plpgsql function raises for every table; TRUNCATE, which skips row
# triggers there, gets a statement trigger of its own.
PG_FUNCTION = "comptoir_append_only"


def _append_only(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            *(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
                for verb in ("UPDATE", "DELETE")
            ),
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'journal fiscal : {table} est en ajout seul'); END"
        for verb in ("UPDATE", "DELETE")
    ]


PG_FUNCTION_SQL = f"""
CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal fiscal : % est en ajout seul', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def upgrade() -> None:
    op.create_table('journal',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('record_type', sa.String(length=16), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('ts', sa.String(length=27), nullable=False),
    sa.Column('business_date', sa.String(length=10), nullable=False),
    sa.Column('till', sa.String(length=32), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('is_sale', sa.Boolean(), nullable=False),
    sa.Column('ref_seq', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('total_cents', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('canonical_version', sa.Integer(), nullable=False),
    sa.Column('canonical', sa.LargeBinary(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ref_seq'], ['journal.seq'], name=op.f('fk_journal_ref_seq_journal')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_journal')),
    sa.UniqueConstraint('hash', name=op.f('uq_journal_hash')),
    sa.UniqueConstraint('record_type', 'number', name=op.f('uq_journal_record_type_number')),
    sa.UniqueConstraint('record_type', 'period', name=op.f('uq_journal_record_type_period'))
    )
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.create_index('ix_journal_ref_seq', ['ref_seq'], unique=False)
        batch_op.create_index('ix_journal_sale_seq', ['is_sale', 'seq'], unique=False)

    op.create_table('ledger_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_meta'))
    )
    op.create_table('journal_payment',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['journal.seq'], name=op.f('fk_journal_payment_seq_journal')),
    sa.PrimaryKeyConstraint('seq', 'idx', name=op.f('pk_journal_payment'))
    )
    op.create_table('journal_vat',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('base_cents', sa.Integer(), nullable=False),
    sa.Column('vat_cents', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['journal.seq'], name=op.f('fk_journal_vat_seq_journal')),
    sa.PrimaryKeyConstraint('seq', 'rate_bp', name=op.f('pk_journal_vat'))
    )
    op.create_table('signing_key',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('registered_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['registered_seq'], ['journal.seq'], name=op.f('fk_signing_key_registered_seq_journal')),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_key'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION_SQL)
    for table in FISCAL_TABLES:
        for statement in _append_only(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in FISCAL_TABLES:
        if dialect == "postgresql":
            for verb in ("update", "delete", "truncate"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb} ON {table}")
        else:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    op.drop_table('signing_key')
    op.drop_table('journal_vat')
    op.drop_table('journal_payment')
    op.drop_table('ledger_meta')
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_sale_seq')
        batch_op.drop_index('ix_journal_ref_seq')

    op.drop_table('journal')
