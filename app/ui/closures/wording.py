"""What the closures screen says, in French: sentences built from closure values alone,
so that the wording is read and tested without any widget."""

from __future__ import annotations

from datetime import date

from app.ledger.closures import Closure, Pending, PeriodTotals, day_label, month_label
from app.ledger.records import RecordType
from app.sales.payments import PaymentMethod
from app.values.money import format_cents
from app.values.vat import format_rate


def pending_sentence(pending: Pending) -> str:
    """ "La journée du 21/11/2026 n'est pas clôturée." and the like."""
    if pending.kind is RecordType.DAY_CLOSURE:
        day = day_label(date.fromisoformat(pending.period))
        return f"La journée du {day} n'est pas clôturée."
    if pending.kind is RecordType.MONTH_CLOSURE:
        return f"Le mois de {month_label(pending.period)} n'est pas clôturé."
    return f"L'exercice {pending.period} n'est pas clôturé."


def signed_cents(cents: int) -> str:
    return f"+{format_cents(cents)}" if cents > 0 else format_cents(cents)


def tickets_sentence(report: PeriodTotals) -> str:
    """« 1 ticket », « 3 tickets, dont 1 annulation »."""
    text = f"{report.tickets} ticket{'s' if report.tickets > 1 else ''}"
    if report.refunds:
        text += f", dont {report.refunds} annulation{'s' if report.refunds > 1 else ''}"
    return text


def z_summary(
    day: date,
    report: PeriodTotals,
    expected: dict[str, int],
    counted: dict[str, int],
    *,
    since: Closure | None = None,
) -> str:
    """What a Z is about to record, for the cashier to check before confirming; ``since``:
    the day's earlier Z, when trading went on after it."""
    tickets = tickets_sentence(report)
    lines = [f"Clôturer la journée du {day_label(day)} ?"]
    if since is not None:
        lines.append(f"Nouvelle clôture : les ventes faites depuis le Z n° {since.number}.")
    lines += [
        "",
        f"{tickets} — total TTC {format_cents(report.total)}",
    ]
    for rate, _base, vat, _total in report.vat:
        lines.append(f"   TVA {format_rate(rate)} : {format_cents(vat)}")
    lines.append("")
    for method in PaymentMethod:
        wanted = expected.get(method.value, 0)
        if method.value in counted:
            difference = counted[method.value] - wanted
            lines.append(
                f"{method.label} : attendu {format_cents(wanted)}, compté "
                f"{format_cents(counted[method.value])}, écart {signed_cents(difference)}"
            )
        elif wanted:
            lines.append(f"{method.label} : attendu {format_cents(wanted)}, non compté")
    short = sum(counted[m] - expected.get(m, 0) for m in counted)
    if counted:
        lines.append(f"Écart total : {signed_cents(short)}")
    lines += [
        "",
        "La clôture (Z) est définitive : ce qu'elle couvre ne pourra plus être modifié.",
        "Les ventes suivantes iront sur la prochaine clôture.",
    ]
    return "\n".join(lines)


def closed_day_status(day: date, closure: Closure, *, again: bool) -> str:
    """What the day panel says of a day already closed, and whether it closes again."""
    done = f"La journée du {day_label(day)} est déjà clôturée (Z n° {closure.number})"
    if again:
        return f"{done} ; une nouvelle clôture couvrira les ventes faites depuis."
    return f"{done} ; rien n'a été vendu depuis."


__all__ = [
    "closed_day_status",
    "pending_sentence",
    "signed_cents",
    "tickets_sentence",
    "z_summary",
]
