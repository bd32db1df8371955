"""PostgreSQL roles: the schema's owner migrates, the tills append.

The role that owns the tables can drop or disable their append-only triggers. So the
central's database is owned by one role, used only to create and migrate the schema
(``comptoir --db <owner URL> central init``, again after each upgrade of Comptoir), and
the tills and the application connect as another role that may read, append to the fiscal
tables and keep its own working tables, and nothing more: not being the owner, it cannot
ALTER, DISABLE or DROP a trigger, a function or a table; it has no UPDATE, DELETE nor
TRUNCATE right on a fiscal table; and not being a superuser, it cannot switch the triggers
off for its session (``session_replication_role``).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.errors import InvalidInput, LedgerError
from app.ledger.central.models import CENTRAL_APPEND_ONLY
from app.ledger.db import display_target, is_postgres
from app.ledger.models import FISCAL_TABLES
from app.ledger.timestamps.queue import TIMESTAMP_APPEND_ONLY

# Append-only tables: read and append. purge_authorisation and purged_number are read by
# the guards and the numbering; only the owner's purge may write them.
APPEND_ONLY = (*FISCAL_TABLES, *CENTRAL_APPEND_ONLY, *TIMESTAMP_APPEND_ONLY)
READ_ONLY = ("purge_authorisation", "purged_number", "alembic_version")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
MIN_PASSWORD_CHARS = 12


def grant_app_role(owner_url: str, role: str, password: str) -> str:
    """As the owner of the schema (``owner_url``), create the application's role (or set
    its password) with append-only rights; returns the URL the tills use (with the
    password: show it with ``display_target``)."""
    if not is_postgres(owner_url):
        raise InvalidInput("Les rôles ne concernent qu'un serveur central PostgreSQL.")
    if not _ROLE_NAME.match(role):
        raise InvalidInput(
            "Nom de rôle invalide : lettres minuscules, chiffres et « _ », 63 caractères au "
            "plus, sans chiffre au début."
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(
            f"Le mot de passe du rôle doit compter au moins {MIN_PASSWORD_CHARS} caractères."
        )
    url = make_url(owner_url)
    if role == url.username:
        raise InvalidInput("Le rôle de l'application doit être distinct du propriétaire.")
    engine = create_engine(owner_url)
    try:
        with engine.begin() as conn:
            _grant(conn, role, password, url.database or "")
    except Exception as exc:
        raise LedgerError(
            f"Le rôle {role} n'a pas pu être préparé sur {display_target(owner_url)} : le "
            "compte de l'adresse doit être propriétaire des tables et pouvoir créer des "
            "rôles (CREATEROLE).",
            detail=repr(exc),
        ) from exc
    finally:
        engine.dispose()
    return url.set(username=role, password=password).render_as_string(hide_password=False)


def _grant(conn: Connection, role: str, password: str, database: str) -> None:
    quoted = f'"{role}"'
    literal = conn.exec_driver_sql("SELECT quote_literal(%s)", (password,)).scalar()
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    verb = "ALTER" if exists else "CREATE"
    conn.exec_driver_sql(
        f"{verb} ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
        f"NOREPLICATION NOBYPASSRLS PASSWORD {literal}"
    )
    conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}')
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    conn.exec_driver_sql(f"REVOKE CREATE ON SCHEMA public FROM {quoted}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
    for table in inspect(conn).get_table_names():
        if table in APPEND_ONLY:
            rights = "SELECT, INSERT"
        elif table in READ_ONLY:
            rights = "SELECT"
        else:  # working tables: outbox, preferences, till heads
            rights = "SELECT, INSERT, UPDATE, DELETE"
        conn.exec_driver_sql(f'GRANT {rights} ON TABLE "{table}" TO {quoted}')
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
