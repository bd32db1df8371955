"""Central ledger: the tills' chains as uploaded (till_chain, till_record, till_key,
till_upload). Empty on a till's own ledger; append-only like the fiscal tables. Each
till_upload row is signed by the till's own key (key_id, signature).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# till_chain keeps the head of each till's chain up to date (a cache checked by
# verification); the other three tables are never updated nor deleted from.
APPEND_ONLY = ("till_record", "till_key", "till_upload")
# PostgreSQL: the plpgsql function of the first migration raises for every table (and
# TRUNCATE, which skips row triggers, gets a statement trigger), as for the fiscal tables.
PG_FUNCTION = "comptoir_append_only"


def _triggers(table: str, dialect: str) -> list[str]:
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


def upgrade() -> None:
    op.create_table('till_chain',
    sa.Column('ledger_id', sa.String(length=36), nullable=False),
    sa.Column('till_id', sa.String(length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('head_seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.String(length=27), nullable=False),
    sa.PrimaryKeyConstraint('ledger_id', name=op.f('pk_till_chain')),
    sa.UniqueConstraint('till_id', name=op.f('uq_till_chain_till_id'))
    )
    op.create_table('till_key',
    sa.Column('ledger_id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('registered_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['till_chain.ledger_id'], name=op.f('fk_till_key_ledger_id_till_chain')),
    sa.PrimaryKeyConstraint('ledger_id', 'key_id', name=op.f('pk_till_key'))
    )
    op.create_table('till_record',
    sa.Column('ledger_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('record_type', sa.String(length=16), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('ts', sa.String(length=27), nullable=False),
    sa.Column('business_date', sa.String(length=10), nullable=False),
    sa.Column('till', sa.String(length=32), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('is_sale', sa.Boolean(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('total_cents', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('canonical_version', sa.Integer(), nullable=False),
    sa.Column('canonical', sa.LargeBinary(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['till_chain.ledger_id'], name=op.f('fk_till_record_ledger_id_till_chain')),
    sa.PrimaryKeyConstraint('ledger_id', 'seq', name=op.f('pk_till_record'))
    )
    with op.batch_alter_table('till_record', schema=None) as batch_op:
        batch_op.create_index('ix_till_record_type_date', ['record_type', 'business_date'], unique=False)
        batch_op.create_index('ix_till_record_type_number', ['ledger_id', 'record_type', 'number'], unique=False)

    op.create_table('till_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.String(length=36), nullable=False),
    sa.Column('from_seq', sa.Integer(), nullable=False),
    sa.Column('to_seq', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.String(length=27), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['till_chain.ledger_id'], name=op.f('fk_till_upload_ledger_id_till_chain')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_till_upload'))
    )
    with op.batch_alter_table('till_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_till_upload_ledger_id'), ['ledger_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in _triggers(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            for verb in ("update", "delete", "truncate"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb} ON {table}")
        else:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    with op.batch_alter_table('till_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_till_upload_ledger_id'))

    op.drop_table('till_upload')
    with op.batch_alter_table('till_record', schema=None) as batch_op:
        batch_op.drop_index('ix_till_record_type_number')
        batch_op.drop_index('ix_till_record_type_date')

    op.drop_table('till_record')
    op.drop_table('till_key')
    op.drop_table('till_chain')
