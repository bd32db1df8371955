"""RFC 3161 time-stamp tokens of closures and archives (time_stamp), beside the chain:
a token arrives after the record it stamps. Append-only like the fiscal tables.

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-04 21:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLE = "time_stamp"
PG_FUNCTION = "comptoir_append_only"  # from the first migration


def _triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            *(
                f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
                for verb in ("UPDATE", "DELETE")
            ),
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
    return [
        f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, 'journal fiscal : {TABLE} est en ajout seul'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('response', sa.LargeBinary(), nullable=False),
    sa.Column('gen_time', sa.String(length=27), nullable=False),
    sa.Column('tsa_url', sa.String(), nullable=False),
    sa.Column('stored_at', sa.String(length=27), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_time_stamp'))
    )
    for statement in _triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table(TABLE)
