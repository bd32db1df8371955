"""On PostgreSQL, the tills' role appends through the application but cannot drop, alter
or switch off the guards; the owner's role, which migrates, is another."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from app.cli import main
from app.errors import InvalidInput
from app.ledger.central.roles import grant_app_role
from app.ledger.central.service import open_central
from app.ledger.db import libpq_url
from app.ledger.events import EventCode, log_event
from app.ledger.verify.engine import verify_ledger

PASSWORD = "un-mot-de-passe-de-caisse"
# Refused for want of rights (not the owner, no privilege), or by the guards themselves.
RIGHTS = (psycopg.errors.InsufficientPrivilege, psycopg.errors.IntegrityConstraintViolation)
FORBIDDEN = (
    "DROP TRIGGER journal_no_delete ON journal",
    "ALTER TABLE journal DISABLE TRIGGER ALL",
    "ALTER TABLE journal DISABLE TRIGGER journal_no_update",
    "DROP FUNCTION comptoir_append_only() CASCADE",
    "CREATE OR REPLACE FUNCTION comptoir_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
    "SET session_replication_role = replica",
    "DELETE FROM journal",
    "UPDATE journal SET operator = 'x'",
    "TRUNCATE journal CASCADE",
    "DROP TABLE journal CASCADE",
    "INSERT INTO purge_authorisation (id, year, first_seq, last_seq) VALUES (1, '2020', 1, 9)",
    "CREATE TABLE piege (x int)",
)


def test_the_tills_role_cannot_drop_the_guards(pg_url_factory, capsys, monkeypatch) -> None:
    owner = pg_url_factory()
    role = f"caisses_{secrets.token_hex(4)}"
    monkeypatch.setenv("COMPTOIR_APP_ROLE_PASSWORD", PASSWORD)
    assert main(["--db", owner, "central", "init", "--app-role", role]) == 0
    out = capsys.readouterr().out
    assert f"Rôle des caisses prêt : postgresql+psycopg://{role}:***@" in out
    assert PASSWORD not in out
    app = grant_app_role(owner, role, PASSWORD)  # again: the password is set, rights the same
    with open_central(app, operator="Gérant") as central, central.transaction() as session:
        log_event(session, EventCode.LOGIN, operator="Gérant")  # appending works
    with psycopg.connect(libpq_url(app), autocommit=True) as conn:
        for sql in FORBIDDEN:
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(sql)
            assert isinstance(refused.value, RIGHTS), (sql, refused.value)
    assert verify_ledger(owner).ok


def test_a_weak_role_is_refused(pg_url_factory) -> None:
    with pytest.raises(InvalidInput, match="12 caractères"):
        grant_app_role(pg_url_factory(), "caisses", "court")
    with pytest.raises(InvalidInput, match="Nom de rôle invalide"):
        grant_app_role(pg_url_factory(), "Caisses; DROP", PASSWORD)
