"""The VAT and payment copies stored in the order of their key (SQLite).

``journal_vat`` and ``journal_payment`` are read by record number, always: by the
reports and by every verification, which compares them with the signed bodies. As rowid
tables each row read that way costs a search of the key's index and another of the
table; kept ``WITHOUT ROWID`` the rows of a record range lie together in the key's own
tree. The rows, columns, keys and guards are the same; the tables are rebuilt, and their
append-only triggers recreated as they were. PostgreSQL has no rowid: nothing to do.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 02:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_TABLES = {
    "journal_vat": (
        "seq INTEGER NOT NULL, rate_bp INTEGER NOT NULL, base_cents INTEGER NOT NULL, "
        "vat_cents INTEGER NOT NULL, total_cents INTEGER NOT NULL, "
        "CONSTRAINT pk_journal_vat PRIMARY KEY (seq, rate_bp), "
        "CONSTRAINT fk_journal_vat_seq_journal FOREIGN KEY(seq) REFERENCES journal (seq)",
        "seq, rate_bp, base_cents, vat_cents, total_cents",
    ),
    "journal_payment": (
        "seq INTEGER NOT NULL, idx INTEGER NOT NULL, method VARCHAR(16) NOT NULL, "
        "amount_cents INTEGER NOT NULL, "
        "CONSTRAINT pk_journal_payment PRIMARY KEY (seq, idx), "
        "CONSTRAINT fk_journal_payment_seq_journal FOREIGN KEY(seq) REFERENCES journal (seq)",
        "seq, idx, method, amount_cents",
    ),
}


def _rebuild(table: str, *, rowid: bool) -> None:
    columns, names = _TABLES[table]
    conn = op.get_bind()
    triggers = [
        sql
        for (sql,) in conn.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        )
    ]
    suffix = "" if rowid else " WITHOUT ROWID"
    op.execute(f"CREATE TABLE {table}_rebuilt ({columns}){suffix}")
    op.execute(
        f"INSERT INTO {table}_rebuilt ({names}) SELECT {names} FROM {table} ORDER BY seq"
    )
    op.execute(f"DROP TABLE {table}")  # its triggers go with it
    op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        _rebuild(table, rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        _rebuild(table, rowid=True)
