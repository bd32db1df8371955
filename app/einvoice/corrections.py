"""Corrections and payments of issued invoices: credit notes, whole or of chosen lines
and quantities (never more than what earlier credit notes left), and payments received
against an invoice (never more than what is outstanding)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.einvoice.invoices import Amounts, operation_of, summarize
from app.einvoice.issuing import (
    IssuedDocument,
    Prepared,
    get_document,
    invoice_number,
    related,
    status_of,
)
from app.errors import InvalidInput
from app.ledger.closures import today
from app.ledger.journal import Recorded, append, next_number
from app.ledger.operators import Permission, require
from app.ledger.records import RecordType
from app.sales.cart import Discount
from app.sales.payments import PaymentMethod
from app.values.money import check_cents, format_cents, round_half_up_div, shown, to_decimal
from app.values.text import validate_label


def issue_credit_note(
    session: Session,
    invoice: str,
    *,
    operator: str,
    reason: str,
    lines: list[tuple[int, Decimal | int | str]] | None = None,
) -> Recorded:
    """A full (``lines=None``) or partial credit note: chosen quantities of chosen lines."""
    require(session, operator, Permission.CORRECT)
    return prepare_credit_note(session, invoice, reason=reason, lines=lines).append(
        session, operator=operator
    )


def prepare_credit_note(
    session: Session,
    invoice: str,
    *,
    reason: str,
    lines: list[tuple[int, Decimal | int | str]] | None = None,
    self_billed: bool = False,
) -> Prepared:
    """The credit note's body; ``self_billed``: the base of a self-billed credit note
    (``app.einvoice.selfbilling``), which numbers and types it itself."""
    original = get_document(session, invoice)
    if original.is_credit_note:
        raise InvalidInput("Un avoir ne se corrige pas par un autre avoir.")
    if original.is_self_billed != self_billed:
        raise InvalidInput(
            f"{original.doc_number} est une autofacture : elle se corrige par un avoir "
            "d'autofacturation (Factures › Autofacturation)."
            if original.is_self_billed
            else f"{original.doc_number} n'est pas une autofacture."
        )
    reason = validate_label(reason) if isinstance(reason, str) and reason.strip() else ""
    if not reason:
        raise InvalidInput("Indiquez le motif de l'avoir.")
    state = status_of(session, original)
    body = original.body
    if lines is None:
        amounts = _full_mirror(body)
    else:
        if not lines:
            raise InvalidInput("Choisissez au moins une ligne à créditer.")
        left = _left_per_line(session, original)
        credited, seen = [], set()
        for index, raw in lines:  # index: 0 for the first line, shown as line 1
            if (
                isinstance(index, bool)
                or not isinstance(index, int)
                or not 0 <= index < len(body["lines"])
            ):
                what = index + 1 if isinstance(index, int) else shown(index)
                raise InvalidInput(
                    f"Ligne {what} inconnue sur la facture {original.doc_number} "
                    f"(elle en a {len(body['lines'])})."
                )
            if index in seen:
                raise InvalidInput(f"La ligne {index + 1} est demandée deux fois.")
            seen.add(index)
            credited.append(_line_back(body["lines"][index], raw, left[index], index))
        amounts = summarize(credited, _discount_share(body, credited))
    if amounts.totals["total"] > body["total"] - state.credited:
        raise InvalidInput(
            f"L'avoir ({format_cents(amounts.totals['total'])}) dépasse ce qui reste de la "
            f"facture ({format_cents(body['total'] - state.credited)})."
        )
    number = next_number(session, RecordType.CREDIT_NOTE)
    issued_on = today(session).isoformat()
    credit = {
        **body,
        "doc": "credit_note",
        "type_code": "381",
        "number": invoice_number(RecordType.CREDIT_NOTE, number, issued_on),
        "issue_date": issued_on,
        "due_date": issued_on,
        **amounts.body_fields(),
        "preceding": {"number": body["number"], "date": body["issue_date"]},
        "from_ticket": None,
        "reason": reason,
    }
    credit["operation"], credit["business_process"] = operation_of(amounts.lines)
    return Prepared(RecordType.CREDIT_NOTE, number, credit, original.seq)


@dataclass(frozen=True)
class CreditableLine:
    """An invoice line as a credit note sees it: sold, still creditable, its net."""

    index: int
    label: str
    sold: Decimal
    left: Decimal
    net: int  # the whole line's net amount excl. VAT, in cents

    def net_for(self, qty: Decimal) -> int:
        return int((Decimal(self.net) * qty / self.sold).quantize(1)) if self.sold else 0


def _left_per_line(session: Session, original: IssuedDocument) -> list[Decimal]:
    """Per invoice line, the quantity no credit note has taken yet. A credit note line
    names its invoice line (``original_line``); one recorded before it did is matched
    to the first line of the same label, price and rate that still has some left."""
    lines = original.body["lines"]
    left = [Decimal(line["qty"]) for line in lines]
    for other in related(session, original):
        if not other.is_credit_note:
            continue
        for credit in other.body["lines"]:
            qty = Decimal(credit["qty"])
            index = credit.get("original_line")
            if index is None:
                index = next(
                    (
                        i
                        for i, line in enumerate(lines)
                        if left[i] > 0
                        and (line["label"], line["net_price"], line["rate"])
                        == (credit["label"], credit["net_price"], credit["rate"])
                    ),
                    None,
                )
            if index is not None and 0 <= index < len(left):
                left[index] = max(Decimal(0), left[index] - qty)
    return left


def creditable_lines(session: Session, invoice: str) -> list[CreditableLine]:
    """What a credit note on ``invoice`` may still take, line by line."""
    original = get_document(session, invoice)
    if original.is_credit_note:
        raise InvalidInput("Un avoir ne se corrige pas par un autre avoir.")
    left = _left_per_line(session, original)
    return [
        CreditableLine(i, line["label"], Decimal(line["qty"]), left[i], line["net"])
        for i, line in enumerate(original.body["lines"])
    ]


def _line_back(
    line: dict[str, Any], raw: Decimal | int | str, left: Decimal, index: int
) -> dict[str, Any]:
    """The part of an invoice line to credit: ``qty`` units, amounts in proportion."""
    qty = to_decimal(raw, "Quantité")
    sold = Decimal(line["qty"])
    if qty <= 0:
        raise InvalidInput(f"« {line['label']} » : quantité à créditer strictement positive.")
    if qty > left:
        shown_left = format(left.normalize(), "f").replace(".", ",")
        raise InvalidInput(
            f"« {line['label']} » : au plus {shown_left} à créditer"
            + (" (déjà crédité par un avoir précédent)." if left < sold else ".")
        )

    def part(cents: int) -> int:
        return cents if qty == sold else int((Decimal(cents) * qty / sold).quantize(1))

    gross, net = part(line["gross"]), part(line["net"])
    return {
        **line,
        "qty": format(qty.normalize(), "f"),
        "gross": gross,
        "discount": gross - net,
        "net": net,
        "original_line": index,
    }


def _discount_share(body: dict[str, Any], credited: list[dict[str, Any]]) -> Discount | None:
    """The invoice's own discount on the total, for the lines credited: a partial credit
    note gives back what the customer paid for them, not their price before it (the
    same percentage, or the amount in proportion). Charges such as shipping stay."""
    allowances = body.get("allowances") or []
    if not allowances:
        return None
    percents = {row.get("percent") for row in allowances}
    if len(percents) == 1 and None not in percents:
        return Discount.percent_of(Decimal(percents.pop()))
    share = round_half_up_div(
        body["total_allowances"] * sum(line["net"] for line in credited), body["total_lines"]
    )
    return Discount.amount(share) if share > 0 else None


def _full_mirror(body: dict[str, Any]) -> Amounts:
    keys = ("total_lines", "total_allowances", "total_charges", "total_excl", "total_vat", "total")
    return Amounts(
        body["lines"],
        body["allowances"],
        body["charges"],
        body["vat_breakdown"],
        {k: body[k] for k in keys},
    )


def record_payment(
    session: Session,
    invoice: str,
    amount_cents: int,
    *,
    method: PaymentMethod | str = PaymentMethod.CARD,
    operator: str,
) -> Recorded:
    """A payment received against an invoice (partial payments allowed, never more than
    what is outstanding)."""
    require(session, operator, Permission.SELL)
    document = get_document(session, invoice)
    if document.is_credit_note:
        raise InvalidInput("Un avoir ne reçoit pas de règlement.")
    if document.is_self_billed:
        raise InvalidInput(
            f"{document.doc_number} est une autofacture : un achat de la boutique, dont le "
            "règlement au fournisseur ne s'enregistre pas en caisse."
        )
    if check_cents(amount_cents, "Règlement") <= 0:
        raise InvalidInput("Le règlement doit être strictement positif.")
    state = status_of(session, document)
    if amount_cents > state.outstanding:
        raise InvalidInput(f"Le règlement dépasse le reste dû ({format_cents(state.outstanding)}).")
    method = PaymentMethod(method)
    body = {
        "invoice": document.doc_number,
        "method": method.value,
        "payments": [{"method": method.value, "amount": amount_cents}],
        "vat": [],
        "total": amount_cents,
        "outstanding_after": state.outstanding - amount_cents,
    }
    return append(session, RecordType.PAYMENT, body, operator=operator, ref_seq=document.seq)
