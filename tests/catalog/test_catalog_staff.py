"""Catalog lookups and operator logins."""

from __future__ import annotations

from decimal import Decimal

import pytest
from stdnum import ean

from app.catalog.service import load_demo_catalog, lookup_barcode, save_product, search_products
from app.errors import InvalidInput
from app.ledger.operators import Permission, PermissionDenied, Role
from app.staff.service import MAX_FAILURES, add_operator, attempt_login, check_manager_pin


def test_demo_catalog_and_scale_labels(ledger) -> None:
    with ledger.transaction() as session:
        assert load_demo_catalog(session, operator="Camille") == 30
        assert load_demo_catalog(session, operator="Camille") == 0
        scan = lookup_barcode(session, "3760123450010")
        assert scan.product.name == "Baguette tradition" and scan.quantity == 1
        code = "2100006" + "01250"
        weighed = lookup_barcode(session, code + ean.calc_check_digit(code))
        assert weighed.product.weighed and weighed.quantity == Decimal("1.25")
        assert [p.name for p in search_products(session, "pain")][:1] == ["Pain au chocolat"]


@pytest.mark.parametrize("code", ["", "abc", "1234567890123", "12345"])
def test_bad_codes_are_refused(ledger, code) -> None:
    with pytest.raises(InvalidInput), ledger.reader() as session:
        lookup_barcode(session, code)


def test_product_checks(ledger) -> None:
    with ledger.transaction() as session:
        save_product(
            session,
            name="Thé",
            price_cents=450,
            vat_rate_bp=550,
            ean="3760123450010",
            operator="Camille",
        )
        with pytest.raises(InvalidInput, match="déjà utilisé"):
            save_product(
                session,
                name="Café",
                price_cents=450,
                vat_rate_bp=550,
                ean="3760123450010",
                operator="Camille",
            )
        with pytest.raises(InvalidInput):
            save_product(
                session, name="Café", price_cents=450, vat_rate_bp=1900, operator="Camille"
            )
        with pytest.raises(InvalidInput):
            save_product(session, name="Café", price_cents=-1, vat_rate_bp=550, operator="Camille")


def test_vat_rate_change_is_journaled(ledger) -> None:
    from sqlalchemy import select

    from app.ledger import canonical
    from app.ledger.models import JournalRecord

    with ledger.transaction() as session:
        tea = save_product(
            session, name="Thé", price_cents=450, vat_rate_bp=550, operator="Camille"
        )
        save_product(
            session,
            name="Thé vert",
            price_cents=480,
            vat_rate_bp=550,
            product_id=tea.id,
            operator="Camille",
        )
        save_product(
            session,
            name="Thé vert",
            price_cents=480,
            vat_rate_bp=2000,
            product_id=tea.id,
            operator="Camille",
        )
    with ledger.reader() as session:
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    envelope = canonical.decode(last.canonical)
    assert envelope["body"]["code"] == "VAT_RATE_CHANGE"
    assert envelope["operator"] == "Camille"
    assert envelope["body"]["detail"]["old_rate"] == 550


def test_login_lockout_and_roles(ledger, clock) -> None:
    with ledger.transaction() as session:
        add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
        with pytest.raises(InvalidInput):
            add_operator(session, "Léa", Role.CASHIER, "12", operator="Camille")
    for _ in range(MAX_FAILURES):
        with ledger.transaction() as session:
            assert attempt_login(session, "Yanis", "0000").error == "Code PIN incorrect."
    with ledger.transaction() as session:
        assert "réessayez" in attempt_login(session, "Yanis", "5678").error
    clock.advance(minutes=2)
    with ledger.transaction() as session:
        cashier = attempt_login(session, "Yanis", "5678").raise_for_error()
    assert cashier.can(Permission.SELL) and not cashier.can(Permission.CLOSE_PERIOD)
    with pytest.raises(PermissionDenied):
        cashier.require(Permission.CLOSE_PERIOD)
    with ledger.reader() as session:
        assert check_manager_pin(session, "1234").name == "Camille"
        with pytest.raises(PermissionDenied):
            check_manager_pin(session, "5678")
