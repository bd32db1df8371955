"""Plain-text renderings, for the terminal and for narrow receipt printers."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.ledger.canonical import parse_ts
from app.ledger.closures import Closure, PeriodTotals, day_label, month_label
from app.ledger.records import RecordType, document_number
from app.ledger.settings import FiscalSettings
from app.ledger.training import TRAINING_NOTICE
from app.sales.payments import PaymentMethod
from app.values.money import format_cents
from app.values.vat import format_rate

WIDTH = 48


def _row(left: str, right: str, width: int = WIDTH) -> str:
    return f"{left}{right.rjust(width - len(left))}"


def period_title(closure: Closure) -> str:
    if closure.record_type is RecordType.DAY_CLOSURE:
        return f"Journée du {day_label(date.fromisoformat(closure.period))}"
    if closure.record_type is RecordType.MONTH_CLOSURE:
        return f"Mois de {month_label(closure.period)}"
    return f"Exercice {closure.period}"


def method_label(method: str) -> str:
    try:
        return PaymentMethod(method).label
    except ValueError:
        return method


def _header(title: str, shop: FiscalSettings) -> list[str]:
    lines = ["=" * WIDTH, title.center(WIDTH), "=" * WIDTH]
    if shop.name:
        lines += [shop.name, f"{shop.address}, {shop.postcode} {shop.city}", f"SIRET {shop.siret}"]
    return lines


def _turnover(body: dict[str, Any]) -> list[str]:
    """VAT table and payments: the same block on X and Z reports."""
    lines = ["-" * WIDTH, f"{'TVA':<8}{'HT':>13}{'TVA':>13}{'TTC':>14}"]
    for v in body["vat"]:
        lines.append(
            f"{format_rate(v['rate']):<8}{format_cents(v['base']):>13}"
            f"{format_cents(v['vat']):>13}{format_cents(v['total']):>14}"
        )
    lines.append(
        f"{'Total':<8}{format_cents(body['total_excl']):>13}"
        f"{format_cents(body['total_vat']):>13}{format_cents(body['total']):>14}"
    )
    lines += ["-" * WIDTH, "Règlements"]
    for p in body["payments"]:
        lines.append(_row(f"  {method_label(p['method'])}", format_cents(p["amount"])))
    return lines


def _training(lines: list[str], training: bool) -> list[str]:
    """Training reports say so at the top and at the bottom of the paper."""
    if not training:
        return lines
    mention = TRAINING_NOTICE.center(WIDTH).rstrip()
    return [mention, *lines, mention]


def closure_text(
    closure: Closure,
    shop: FiscalSettings,
    timezone: str = "Europe/Paris",
    *,
    training: bool = False,
    backup: str | None = None,
) -> str:
    """A Z report as text: identity, period, VAT table, payments, grand totals.

    ``backup`` is the line about the last backup of the ledger (see
    app.ledger.backup.copies.backup_line), printed under the hash when given."""
    body = closure.body
    made = parse_ts(closure.ts).astimezone(ZoneInfo(timezone))
    title = (
        f"{closure.record_type.label.upper()} (Z) "
        f"{document_number(closure.record_type, closure.number)}"
    )
    lines = _header(title, shop)
    lines += [
        period_title(closure),
        f"Clôturée le {made:%d/%m/%Y à %H:%M:%S} par {closure.operator}",
        f"Enregistrements n°{body['first_seq']} à n°{body['last_seq']}",
        f"Tickets : {body['tickets']} (dont {body['refunds']} annulation(s)/remboursement(s))",
        *_turnover(body),
    ]
    for count in body.get("counted", []):
        if count["counted"] is None:
            continue
        lines.append(
            _row(f"  {method_label(count['method'])} compté", format_cents(count["counted"]))
        )
        lines.append(_row("    écart", format_cents(count["difference"])))
    lines += [
        "-" * WIDTH,
        _row("Grand total de la période", format_cents(body["grand_total"])),
        _row("Grand total perpétuel", format_cents(body["perpetual_total"])),
        _row("Grand total perpétuel (valeur absolue)", format_cents(body["perpetual_abs_total"])),
        f"Empreinte : {closure.hash[:32]}",
        *(textwrap.wrap(backup, WIDTH) if backup else []),
        "=" * WIDTH,
    ]
    return "\n".join(_training(lines, training))


def x_report_text(
    totals: PeriodTotals,
    shop: FiscalSettings,
    when: datetime,
    timezone: str = "Europe/Paris",
    *,
    training: bool = False,
) -> str:
    """Running totals since the last day closure (X): printed, never recorded."""
    local = when.astimezone(ZoneInfo(timezone))
    body = totals.as_body()
    lines = _header("RAPPORT X — SANS CLÔTURE", shop)
    lines += [
        f"Édité le {local:%d/%m/%Y à %H:%M:%S}",
        f"Tickets : {body['tickets']} (dont {body['refunds']} annulation(s)/remboursement(s))",
        *_turnover(body),
        "=" * WIDTH,
    ]
    return "\n".join(_training(lines, training))
