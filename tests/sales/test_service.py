"""Recording sales and their counter-entries in the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import ComptoirError, InvalidInput
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.reprints import record_duplicate
from app.ledger.verify.engine import verify_ledger
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import (
    cancel_ticket,
    get_ticket,
    record_sale,
    refund_lines,
    refundable,
)
from tests.helpers import cart_of, ring


def _count(ledger) -> int:
    with ledger.reader() as session:
        return session.scalar(select(func.count()).select_from(JournalRecord))


def test_sale_records_lines_vat_payments_and_change(ledger) -> None:
    cart = cart_of(("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
    with ledger.transaction() as session:
        record = record_sale(
            session,
            cart,
            [Payment(PaymentMethod.CARD, 1000), Payment(PaymentMethod.CASH, 500)],
            "Alice",
        )
    body = record.body
    assert body["total"] == 1410
    assert body["change"] == 90
    assert body["payments"] == [
        {"method": "card", "amount": 1000},
        {"method": "cash", "amount": 410},
    ]
    assert body["tendered"][1] == {"method": "cash", "amount": 500}
    assert [line["qty"] for line in body["lines"]] == ["2", "1"]
    assert record.doc_number == "T000001"


@pytest.mark.parametrize(
    "payments",
    [
        [],
        [Payment(PaymentMethod.CARD, 100)],
        [Payment(PaymentMethod.CARD, 5000)],
    ],
)
def test_payments_that_do_not_settle_write_nothing(ledger, payments) -> None:
    before = _count(ledger)
    with pytest.raises(InvalidInput), ledger.transaction() as session:
        record_sale(session, cart_of(("Pain", 130, 2, 550)), payments, "Alice")
    assert _count(ledger) == before


@pytest.mark.parametrize(
    "make_line",
    [
        lambda: CartLine("Pain", 130, Decimal(0), 550),
        lambda: CartLine("Pain", 130, Decimal(-1), 550),
        lambda: CartLine("Pain", 130, Decimal(1), 1900),
        lambda: CartLine("Pain", 10**11, Decimal(1), 550),
        lambda: CartLine(b"Pain", 130, Decimal(1), 550),
        lambda: CartLine("P" * 10_000, 130, Decimal(1), 550),
        lambda: CartLine("Pain\udcff", 130, Decimal(1), 550),
    ],
    ids=["zero", "negative", "rate", "huge", "bytes", "10kB", "surrogate"],
)
def test_bad_lines_get_a_clear_error(make_line) -> None:
    with pytest.raises(ComptoirError) as caught:
        make_line()
    assert caught.value.message and caught.value.message[0].isupper()


def test_empty_cart_is_refused(ledger) -> None:
    with pytest.raises(InvalidInput, match="vide"), ledger.transaction() as session:
        record_sale(session, Cart(), [], "Alice")


def test_cancel_mirrors_the_sale_and_references_it(ledger) -> None:
    sale = ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000), method=PaymentMethod.CASH)
    with ledger.transaction() as session:
        cancel = cancel_ticket(session, sale.number, operator="Gérant", reason="Erreur")
    assert cancel.body["total"] == -1410
    assert cancel.body["original"] == {"seq": sale.seq, "number": sale.number}
    assert cancel.body["payments"] == [{"method": "cash", "amount": -1410}]
    assert [line["qty"] for line in cancel.body["lines"]] == ["-2", "-1"]
    with pytest.raises(InvalidInput, match="déjà"), ledger.transaction() as session:
        cancel_ticket(session, sale.number, operator="Gérant", reason="Encore")
    with pytest.raises(InvalidInput, match="contre-passation"), ledger.transaction() as session:
        cancel_ticket(session, cancel.number, operator="Gérant", reason="Encore")
    assert verify_ledger(ledger.path).ok


def test_partial_refunds_never_exceed_what_was_sold(ledger) -> None:
    sale = ring(ledger, ("Pain", 133, 3, 550), ("Vin", 1150, 1, 2000))
    with ledger.transaction() as session:
        first = refund_lines(session, sale.number, [(0, 1)], operator="Gérant", reason="Rassis")
    assert first.body["total"] == -133
    with ledger.transaction() as session:
        refund_lines(session, sale.number, [(0, 2)], operator="Gérant", reason="Rassis")
        left = refundable(session, get_ticket(session, sale.number))
    assert left[0] == (Decimal(0), 0)
    with pytest.raises(InvalidInput, match="au plus 0"), ledger.transaction() as session:
        refund_lines(session, sale.number, [(0, 1)], operator="Gérant", reason="Rassis")
    with pytest.raises(InvalidInput, match="inconnue"), ledger.transaction() as session:
        refund_lines(session, sale.number, [(7, 1)], operator="Gérant", reason="x")
    with pytest.raises(InvalidInput, match="motif"), ledger.transaction() as session:
        refund_lines(session, sale.number, [(1, 1)], operator="Gérant", reason=" ")
    assert verify_ledger(ledger.path).ok


def test_reprints_are_numbered_duplicates(ledger) -> None:
    sale = ring(ledger)
    with ledger.transaction() as session:
        first = record_duplicate(session, RecordType.TICKET, sale.number, operator="Alice")
        second = record_duplicate(session, RecordType.TICKET, sale.number, operator="Alice")
    assert (first.body["copy"], second.body["copy"]) == (1, 2)
    with pytest.raises(InvalidInput, match="n'existe pas"), ledger.transaction() as session:
        record_duplicate(session, RecordType.TICKET, 99, operator="Alice")
    with pytest.raises(InvalidInput, match="ne se réimprime pas"), ledger.transaction() as s:
        record_duplicate(s, RecordType.EVENT, 1, operator="Alice")
