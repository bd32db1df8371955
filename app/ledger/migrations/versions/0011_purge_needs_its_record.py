"""A purge authorisation is written only together with its PURGE record: a bare INSERT into
purge_authorisation lets nothing be deleted.

The purge (app/ledger/archive/purge.py) now appends its PURGE event first, in the same
transaction, then writes the authorisation naming that record (purge_seq). A trigger
refuses any authorisation whose purge_seq is not the newest record of the chain, a PURGE
event (an EVENT whose canonical body has code PURGE) for the same year and range, after
that range. A forger who appends a PURGE record of their own to get past it leaves a
record whose signature verification rejects, at the head of the chain, where no purge can
reach it. Authorisations are never updated.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-04 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None

MESSAGE = "journal fiscal : autorisation de purge refusée sans son enregistrement PURGE"
PG_FUNCTION = "comptoir_purge_needs_its_record"


def _matching(dialect: str) -> str:
    """The newest record, a PURGE event for NEW's year and range, after that range."""
    if dialect == "sqlite":
        body = "CAST(j.canonical AS TEXT)"
        code = f"json_extract({body}, '$.body.code')"
        year = f"json_extract({body}, '$.body.detail.year')"
        first = f"json_extract({body}, '$.body.detail.first_seq')"
        last = f"json_extract({body}, '$.body.detail.last_seq')"
    else:
        body = "(convert_from(j.canonical, 'UTF8')::jsonb -> 'body')"
        code = f"({body} ->> 'code')"
        year = f"({body} -> 'detail' ->> 'year')"
        first = f"(({body} -> 'detail' ->> 'first_seq')::bigint)"
        last = f"(({body} -> 'detail' ->> 'last_seq')::bigint)"
    return (
        "SELECT 1 FROM journal j WHERE j.seq = NEW.purge_seq "
        "AND j.seq = (SELECT MAX(seq) FROM journal) AND j.record_type = 'EVENT' "
        f"AND {code} = 'PURGE' AND {year} = NEW.year AND {first} = NEW.first_seq "
        f"AND {last} = NEW.last_seq AND NEW.last_seq < NEW.purge_seq"
    )


def upgrade() -> None:
    # The table is empty outside a purge's transaction: the column needs no default.
    op.add_column('purge_authorisation', sa.Column('purge_seq', sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"""
CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.purge_seq IS NOT NULL AND EXISTS ({_matching(dialect)}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END
$$
""")
        op.execute(
            "CREATE TRIGGER purge_authorisation_needs_its_record BEFORE INSERT OR UPDATE "
            f"ON purge_authorisation FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
    else:
        op.execute(
            "CREATE TRIGGER purge_authorisation_needs_its_record BEFORE INSERT ON "
            f"purge_authorisation WHEN NEW.purge_seq IS NULL OR NOT EXISTS ({_matching(dialect)}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER purge_authorisation_no_update BEFORE UPDATE ON purge_authorisation "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER purge_authorisation_needs_its_record ON purge_authorisation")
        op.execute(f"DROP FUNCTION {PG_FUNCTION}()")
    else:
        op.execute("DROP TRIGGER purge_authorisation_needs_its_record")
        op.execute("DROP TRIGGER purge_authorisation_no_update")
    # Not a batch: copying the table would break the DELETE guards that read it (0007).
    op.execute("ALTER TABLE purge_authorisation DROP COLUMN purge_seq")
