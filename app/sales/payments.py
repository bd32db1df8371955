"""How a ticket is paid: payment methods, change (cash only) and refunds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.errors import InvalidInput
from app.values.money import check_cents, format_cents, shown

__all__ = ["Payment", "PaymentMethod", "Settlement", "format_cents", "settle"]

MAX_REFERENCE_CHARS = 40


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    CHEQUE = "cheque"
    VOUCHER = "voucher"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    PaymentMethod.CASH: "Espèces",
    PaymentMethod.CARD: "Carte bancaire",
    PaymentMethod.CHEQUE: "Chèque",
    PaymentMethod.VOUCHER: "Bon d'achat",
}


@dataclass(frozen=True)
class Payment:
    """An amount given (> 0) or paid back (< 0) with one method; ``reference`` is what
    the card terminal gave for it (its authorisation number), printed on the receipt."""

    method: PaymentMethod
    amount_cents: int
    reference: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.method, PaymentMethod):
            try:
                method = PaymentMethod(self.method)
            except ValueError:
                raise InvalidInput(f"Moyen de paiement inconnu : {shown(self.method)}.") from None
            object.__setattr__(self, "method", method)
        if check_cents(self.amount_cents, "Paiement") == 0:
            raise InvalidInput("Un paiement ne peut pas être nul.")
        if not isinstance(self.reference, str) or len(self.reference) > MAX_REFERENCE_CHARS:
            raise InvalidInput("Référence de paiement invalide.")


@dataclass(frozen=True)
class Settlement:
    """How a ticket was paid.

    `payments` are the amounts kept for the ticket (cash reduced by the change) and add up
    to `paid_cents`, the ticket total; `tendered` are the payments as given.
    """

    payments: tuple[Payment, ...]
    tendered: tuple[Payment, ...]
    change_cents: int
    paid_cents: int


def settle(total_cents: int, payments: Sequence[Payment]) -> Settlement:
    """Check that payments settle a ticket of total_cents and work out the change."""
    total = check_cents(total_cents, "Total du ticket")
    tendered = tuple(payments)
    if not all(isinstance(payment, Payment) for payment in tendered):
        raise InvalidInput("Paiement invalide.")
    paid = check_cents(sum(p.amount_cents for p in tendered), "Total des paiements")
    if total == 0:
        if tendered:
            raise InvalidInput("Ce ticket est à 0,00 € : aucun paiement n'est attendu.")
        return Settlement((), (), 0, 0)
    if total < 0:
        return _settle_refund(total, tendered, paid)
    if any(p.amount_cents < 0 for p in tendered):
        raise InvalidInput("Les paiements d'une vente doivent être positifs.")
    if paid < total:
        raise InvalidInput(f"Paiement insuffisant : il manque {format_cents(total - paid)}.")
    non_cash = sum(p.amount_cents for p in tendered if p.method is not PaymentMethod.CASH)
    if non_cash > total:
        raise InvalidInput(
            "Seules les espèces peuvent rendre la monnaie : les autres paiements dépassent "
            f"le total de {format_cents(non_cash - total)}."
        )
    change = paid - total
    return Settlement(_keep_after_change(tendered, change), tendered, change, total)


def _settle_refund(total: int, tendered: tuple[Payment, ...], paid: int) -> Settlement:
    if any(p.amount_cents > 0 for p in tendered):
        raise InvalidInput("Un remboursement se fait avec des montants négatifs.")
    if paid != total:
        raise InvalidInput(
            f"Le remboursement doit être exactement de {format_cents(-total)} "
            f"(saisi : {format_cents(-paid)})."
        )
    return Settlement(tendered, tendered, 0, total)


def _keep_after_change(tendered: tuple[Payment, ...], change: int) -> tuple[Payment, ...]:
    """The payments minus the change, taken from the last cash payments first."""
    kept: list[Payment] = []
    for payment in reversed(tendered):
        if change and payment.method is PaymentMethod.CASH:
            given_back = min(change, payment.amount_cents)
            change -= given_back
            if payment.amount_cents > given_back:
                kept.append(Payment(payment.method, payment.amount_cents - given_back))
        else:
            kept.append(payment)
    return tuple(reversed(kept))
