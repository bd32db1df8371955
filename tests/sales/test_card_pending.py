"""The journal of card transactions: one sale is never charged twice."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.sales.payments import Payment, PaymentMethod
from app.sales.terminal import pending
from app.sales.terminal.protocol import Answer
from tests.helpers import cart_of


def _approved(authorisation: str = "100001") -> Answer:
    return Answer(True, "10", "", authorisation, "4970******0042", ())


def _refused() -> Answer:
    return Answer(False, "01", "04", "", "", ())


def test_an_approved_card_payment_is_recorded_with_its_ticket(ledger) -> None:
    cart = cart_of(("Pain", 250, 2, 550))
    with ledger.transaction() as session:
        attempt = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
    with ledger.transaction() as session:
        approved = pending.record_answer(session, attempt.id, _approved())
        assert approved.payment == Payment(PaymentMethod.CARD, 500, "100001")
    with ledger.reader() as session:
        assert [a.id for a in pending.approved_for_sale(session, "k1")] == [attempt.id]
    with ledger.transaction() as session:
        recorded = pending.record_sale_with_cards(
            session, cart, [approved.payment], "test", sale_key="k1"
        )
    assert recorded.body["payments"] == [{"method": "card", "amount": 500, "reference": "100001"}]
    with ledger.reader() as session:
        assert pending.approved_for_sale(session, "k1") == []
        assert pending.unsettled(session) == []


def test_a_ticket_without_its_approved_card_payment_is_refused(ledger) -> None:
    cart = cart_of(("Pain", 250, 2, 550))
    with ledger.transaction() as session:
        attempt = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
        pending.record_answer(session, attempt.id, _approved())
    with pytest.raises(InvalidInput, match="manque au ticket"), ledger.transaction() as session:
        pending.record_sale_with_cards(
            session, cart, [Payment(PaymentMethod.CASH, 500)], "test", sale_key="k1"
        )


def test_no_new_card_transaction_while_one_of_the_sale_is_unknown(ledger) -> None:
    with ledger.transaction() as session:
        first = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
        pending.mark_unknown(session, first.id, "connexion coupée")
    with (
        pytest.raises(pending.UnsettledCard, match="n'a pas eu de réponse") as raised,
        ledger.transaction() as session,
    ):
        pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
    assert raised.value.attempt.id == first.id
    with ledger.transaction() as session:  # another sale is not held up
        pending.begin(session, sale_key="k2", amount_cents=300, operator="test")
    with ledger.transaction() as session:
        pending.confirm(session, first.id, approved=False, operator="test")
    with ledger.transaction() as session:
        again = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
    assert again.id != first.id


def test_a_refused_payment_is_settled_and_an_answer_read_twice_changes_nothing(ledger) -> None:
    with ledger.transaction() as session:
        attempt = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
        refused = pending.record_answer(session, attempt.id, _refused())
        assert refused.state == pending.REFUSED
        assert "refusé" in refused.reason
        assert pending.record_answer(session, attempt.id, _approved()).state == pending.REFUSED
        assert pending.unsettled(session) == []


def test_a_leftover_without_a_cart_can_only_be_refunded(ledger) -> None:
    with ledger.transaction() as session:
        attempt = pending.begin(session, sale_key="k1", amount_cents=500, operator="test")
        pending.record_answer(session, attempt.id, _approved())
    with pytest.raises(InvalidInput, match="remboursez"), ledger.transaction() as session:
        pending.record_leftover(session, attempt.id, operator="test")
    with ledger.transaction() as session:
        done = pending.mark_refunded(session, attempt.id, None, operator="test")
    assert done.state == pending.REFUNDED


@pytest.mark.parametrize("amount", [0, -5])
def test_bad_amounts_are_refused(ledger, amount) -> None:
    with pytest.raises(InvalidInput), ledger.transaction() as session:
        pending.begin(session, sale_key="k1", amount_cents=amount, operator="test")


def test_an_interrupted_cancellation_is_recorded_from_its_credit(ledger) -> None:
    from app.sales.service import record_sale

    with ledger.transaction() as session:
        sale = record_sale(
            session, cart_of(("Vin", 1150, 1, 2000)), [Payment(PaymentMethod.CARD, 1150)], "test"
        )
        credit = pending.begin(
            session, sale_key="cancel-1", amount_cents=1150, operator="test", credit=True,
            cancels=(sale.number, "Erreur de caisse"),
        )  # fmt: skip
        pending.record_answer(session, credit.id, _approved("100009"))
    with ledger.reader() as session:
        (left,) = pending.unsettled(session)
    assert left.kind == "credit" and left.payment.amount_cents == -1150
    with ledger.transaction() as session:
        cancellation = pending.record_leftover(session, left.id, operator="test")
    assert cancellation.body["kind"] == "cancellation"
    assert cancellation.body["original"]["number"] == sale.number
    with ledger.reader() as session:
        assert pending.unsettled(session) == []
