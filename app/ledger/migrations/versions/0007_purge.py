"""Purge of archived fiscal years: the DELETE guards of journal, journal_vat and
journal_payment let through what one purge authorises, and nothing else.

A purge (app/ledger/archive/purge.py) writes one row into purge_authorisation inside its own
transaction, deletes, and empties the table before it commits. The guards consult that
row: a journal row may go only if its seq is in the authorised range, its business date
in the authorised year, and it is not a closure, a key, a settings or an archive record;
a VAT or payment copy only if its seq is in the range. Outside a purge the table is empty
and the guards refuse every DELETE exactly as before (same trigger names, same message).
UPDATE and TRUNCATE guards are unchanged.

purged_number keeps, per record type, the highest number a purge removed, so that the
numbering goes on after it and never gives a number twice (the PURGE events are the
authority; verification reports a number given again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

GUARDED = ("journal", "journal_vat", "journal_payment")
# Records a purge never deletes (app.ledger.archive.purge.KEPT_TYPES says the same).
KEPT = ("KEY", "SETTINGS", "DAY_CLOSURE", "MONTH_CLOSURE", "YEAR_CLOSURE", "ARCHIVE")
_KEPT_SQL = ", ".join(f"'{t}'" for t in KEPT)
PG_APPEND_ONLY = "comptoir_append_only"
PG_GUARD = "comptoir_delete_unless_purged"

_JOURNAL_ALLOWED = (
    "SELECT 1 FROM purge_authorisation a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq "
    f"AND OLD.business_date LIKE a.year || '-%' AND OLD.record_type NOT IN ({_KEPT_SQL})"
)
_COPY_ALLOWED = (
    "SELECT 1 FROM purge_authorisation a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq"
)

PG_GUARD_SQL = f"""
CREATE FUNCTION {PG_GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'journal' THEN
        IF EXISTS ({_JOURNAL_ALLOWED}) THEN
            RETURN OLD;
        END IF;
    ELSIF EXISTS ({_COPY_ALLOWED}) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'journal fiscal : % est en ajout seul', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def _sqlite_guard(table: str, allowed: str | None) -> str:
    when = f"WHEN NOT EXISTS ({allowed}) " if allowed else ""
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when}"
        f"BEGIN SELECT RAISE(ABORT, 'journal fiscal : {table} est en ajout seul'); END"
    )


def _allowed(table: str) -> str:
    return _JOURNAL_ALLOWED if table == "journal" else _COPY_ALLOWED


def upgrade() -> None:
    op.create_table('purge_authorisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.String(length=4), nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_authorisation'))
    )
    op.create_table('purged_number',
    sa.Column('record_type', sa.String(length=16), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('record_type', name=op.f('pk_purged_number'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_GUARD_SQL)
    for table in GUARDED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER {table}_no_delete ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_GUARD}()"
            )
        else:
            op.execute(f"DROP TRIGGER {table}_no_delete")
            op.execute(_sqlite_guard(table, _allowed(table)))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in GUARDED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER {table}_no_delete ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_APPEND_ONLY}()"
            )
        else:
            op.execute(f"DROP TRIGGER {table}_no_delete")
            op.execute(_sqlite_guard(table, None))
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION {PG_GUARD}()")
    op.drop_table('purged_number')
    op.drop_table('purge_authorisation')
