"""Alembic migrations bring an empty database to the current schema."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect

from app.ledger import migrate
from app.ledger.central.models import CENTRAL_APPEND_ONLY
from app.ledger.db import make_engine
from app.ledger.models import FISCAL_TABLES
from app.ledger.timestamps.queue import TIMESTAMP_APPEND_ONLY
from app.models_all import metadata


def test_empty_database_upgrades_to_head_with_triggers(tmp_path) -> None:
    engine = make_engine(tmp_path / "empty.sqlite")
    assert migrate.current_revision(engine) is None
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.head_revision() == migrate.HEAD_REVISION
    assert migrate.upgrade(engine) is False
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "empty.sqlite")
    triggers = {
        row[0] for row in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
    }
    conn.close()
    # purge_authorisation: written only with its PURGE record (0011).
    assert triggers == (
        set(FISCAL_TABLES)
        | set(CENTRAL_APPEND_ONLY)
        | set(TIMESTAMP_APPEND_ONLY)
        | {"purge_authorisation"}
    )


def test_models_match_the_migrations(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(tmp_path / "diff.sqlite")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_0005_keeps_existing_customers_private_and_items_on_the_platform(tmp_path) -> None:
    """A ledger of revision 0004 with a customer and a queued invoice: after the upgrade
    the customer is not public-sector and the invoice still goes to the PA."""
    from alembic import command

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO customer (kind, name, siren, siret, vat_number, electronic_address, "
        "email, address, postcode, city, country, delivery_address, delivery_postcode, "
        "delivery_city, delivery_country, payment_terms_days, active) VALUES ('company', "
        "'Boulangerie Martin', '123456782', '', '', '', '', '3 place', '69002', 'Lyon', "
        "'FR', '', '', '', '', 30, 1)"
    )
    conn.execute(
        "INSERT INTO pdp_outbox (invoice_seq, doc_number, tracking_id, filename, sha256, "
        "payload, state, attempts, next_attempt_at, created_at, updated_at) VALUES (7, "
        "'F2026-000001', 'track', 'F2026-000001.pdf', 'x', X'25504446', 'queued', 0, "
        "'2026-03-02T08:00:00.000000Z', '2026-03-02T08:00:00.000000Z', "
        "'2026-03-02T08:00:00.000000Z')"
    )
    conn.commit()
    conn.close()
    engine = make_engine(path)
    assert migrate.current_revision(engine) == "0004"
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    columns = {c["name"]: c for c in inspect(engine).get_columns("pdp_outbox")}
    assert not columns["channel"]["nullable"] and columns["platform_status"]["nullable"]
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        public = conn.execute("SELECT public_sector FROM customer").fetchall()
        item = conn.execute("SELECT channel, platform_status, state FROM pdp_outbox").fetchall()
    finally:
        conn.close()
    assert public == [(0,)]
    assert item == [("pdp", None, "queued")]


def test_0008_keeps_queued_items_as_invoices_and_allows_one_212_each(tmp_path) -> None:
    """A ledger of revision 0007 with a queued invoice: after the upgrade the item is an
    invoice, the invoice may get one 212 item beside it, and not two."""
    from alembic import command

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    engine.dispose()
    stamp = "'2026-03-02T08:00:00.000000Z'"
    insert = (
        "INSERT INTO pdp_outbox (invoice_seq, doc_number, tracking_id, filename, sha256, "
        "payload, state, attempts, next_attempt_at, created_at, updated_at{kind}) VALUES (7, "
        "'F2026-000001', '{track}', 'F2026-000001.pdf', 'x', X'25504446', 'queued', 0, "
        f"{stamp}, {stamp}, {stamp}{{value}})"
    )
    conn = sqlite3.connect(path)
    conn.execute(insert.format(kind="", track="track", value=""))
    conn.commit()
    conn.close()
    engine = make_engine(path)
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT kind FROM pdp_outbox").fetchall() == [("invoice",)]
        conn.execute(insert.format(kind=", kind", track="t212", value=", 'cashed'"))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert.format(kind=", kind", track="t212b", value=", 'cashed'"))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert.format(kind="", track="t-again", value=""))
    finally:
        conn.close()


def test_0013_leaves_existing_products_to_the_default_of_their_vat_rate(tmp_path) -> None:
    """A product of revision 0008 gets an empty nature: its VAT rate decides its
    e-reporting category until the shop sets one."""
    from alembic import command

    from app.catalog.nature import CATEGORY_CODES, nature_of

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO product (name, price_cents, vat_rate_bp, weighed, open_price, active) "
        "VALUES ('Déjeuner', 1500, 1000, 0, 0, 1)"
    )
    conn.commit()
    conn.close()
    engine = make_engine(path)
    assert migrate.upgrade(engine) is True
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        [(nature, rate)] = conn.execute("SELECT nature, vat_rate_bp FROM product").fetchall()
    finally:
        conn.close()
    assert nature is None and CATEGORY_CODES[nature_of(nature, rate)] == "TPS1"
