"""A record "as printed", for the detail pane: the receipt of a ticket and the Z report
of a closure come from the same renderers as the paper; invoices, payments, events and
the other records get a plain French rendering of what they hold."""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from datetime import date
from typing import Any, TypeVar

from app.ledger.export.browse import RecordDetail
from app.ledger.records import CLOSURE_TYPES, RecordType
from app.ledger.settings import FiscalSettings
from app.ledger.verify.receipt import check_code
from app.values.money import format_cents
from app.values.vat import format_rate

log = logging.getLogger(__name__)
R = TypeVar("R")
WIDTH = 48
FIELD_LABELS = {
    "address": "Adresse",
    "customer": "Client",
    "from": "Du",
    "max_cents": "Montant max. (centimes)",
    "min_cents": "Montant min. (centimes)",
    "operator": "Opérateur",
    "text": "Texte",
    "to": "Au",
    "types": "Types",
    "algorithm": "Algorithme",
    "changed": "Champs modifiés",
    "city": "Ville",
    "code": "Code",
    "copy": "Duplicata n°",
    "country": "Pays",
    "created_at": "Créée le",
    "electronic_address": "Adresse de facturation électronique",
    "endorsed": "Endossée par la clé précédente",
    "file": "Fichier",
    "file_name": "Fichier",
    "filter": "Filtre",
    "first_seq": "Premier n° d'ordre",
    "format": "Format",
    "iban": "IBAN",
    "bic": "BIC",
    "key_id": "Identifiant de la clé",
    "kind": "Nature",
    "last_record": "Dernier enregistrement",
    "last_seq": "Dernier n° d'ordre",
    "legal_form": "Forme juridique",
    "manifest_sha256": "Empreinte du manifeste",
    "name": "Raison sociale",
    "observed": "Heure constatée",
    "of_number": "Numéro du document",
    "of_type": "Type du document",
    "ok": "Intègre",
    "period": "Période",
    "phone": "Téléphone",
    "postcode": "Code postal",
    "public_key": "Clé publique",
    "reason": "Motif",
    "registration": "Immatriculation",
    "records": "Enregistrements",
    "rows": "Lignes",
    "rule": "Règle",
    "seq": "N° d'ordre",
    "settings": "Identité fiscale",
    "share_capital": "Capital social",
    "siret": "SIRET",
    "software_version": "Version du logiciel",
    "source": "Source",
    "summary": "Résumé",
    "vat_number": "N° de TVA intracommunautaire",
    "vat_on_debits": "TVA sur les débits",
    "vat_regime": "Régime de TVA",
}


def shop_of(detail: RecordDetail) -> FiscalSettings:
    known = {f.name for f in fields(FiscalSettings)}
    return FiscalSettings(**{k: v for k, v in detail.shop.items() if k in known})


def printed_text(detail: RecordDetail, *, training: bool = False) -> str:
    """The record as the shop printed it, or its content in words; never raises on an
    odd body (a damaged record still shows its raw content)."""
    try:
        return _render(detail, training)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.info("record %s shown raw: %s", detail.seq, exc)
        return "Contenu de l'enregistrement :\n" + json.dumps(
            detail.body, ensure_ascii=False, indent=2, sort_keys=True
        )


def _render(detail: RecordDetail, training: bool) -> str:
    rtype = detail.record_type
    if rtype is RecordType.TICKET:
        return _ticket(detail, training)
    if rtype in CLOSURE_TYPES:
        return _closure(detail, training)
    if rtype in (RecordType.INVOICE, RecordType.CREDIT_NOTE):
        return _invoice(detail)
    if rtype is RecordType.PAYMENT:
        return _payment(detail)
    if rtype is RecordType.EVENT:
        return _event(detail)
    return _generic(detail)


def _ticket(detail: RecordDetail, training: bool) -> str:
    from app.documents.receipt import receipt_text
    from app.sales.service import Ticket

    ticket = _as_record(Ticket, detail)
    check = None
    if detail.ledger_id:
        check = check_code(detail.ledger_id, ticket.seq, ticket.hash, ticket.signature)
    return receipt_text(
        ticket, shop_of(detail), WIDTH, training=training, timezone=detail.timezone, check=check
    ).rstrip()


def _closure(detail: RecordDetail, training: bool) -> str:
    from app.documents.text import closure_text
    from app.ledger.closures import Closure

    closure = _as_record(Closure, detail, period=detail.period or detail.body.get("period", ""))
    try:
        return closure_text(closure, shop_of(detail), detail.timezone, training=training)
    except TypeError:  # a renderer without the training option
        return closure_text(closure, shop_of(detail), detail.timezone)


def _as_record(kind: type[R], detail: RecordDetail, **given: Any) -> R:
    """The renderer's own value for a record (a Ticket, a Closure): the detail holds every
    field of theirs under the same name, so each one not ``given`` is copied by name."""
    copied = {f.name: getattr(detail, f.name) for f in fields(kind) if f.name not in given}
    return kind(**copied, **given)


def _row(left: str, right: str) -> str:
    return f"{left}{right.rjust(max(1, WIDTH - len(left)))}"


def _day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else "—"


def _party(title: str, party: dict[str, Any]) -> list[str]:
    lines = [title, f"  {party.get('name', '')}"]
    address = party.get("address", "")
    city = f"{party.get('postcode', '')} {party.get('city', '')}".strip()
    lines += [f"  {text}" for text in (address, city) if text]
    if party.get("siren"):
        lines.append(f"  SIREN {party['siren']}")
    if party.get("vat_number"):
        lines.append(f"  TVA intracom. {party['vat_number']}")
    return lines


def _invoice(detail: RecordDetail) -> str:
    body = detail.body
    title = "FACTURE" if detail.record_type is RecordType.INVOICE else "AVOIR"
    lines = ["=" * WIDTH, f"{title} {body['number']}".center(WIDTH), "=" * WIDTH]
    lines.append(f"Date d'émission : {_day(body.get('issue_date'))}")
    if body.get("due_date"):
        lines.append(f"Échéance : {_day(body['due_date'])}")
    preceding = body.get("preceding")
    if preceding:
        lines.append(f"Facture d'origine : {preceding['number']} du {_day(preceding['date'])}")
    if body.get("reason"):
        lines.append(f"Motif : {body['reason']}")
    lines += ["", *_party("Vendeur", body["seller"]), "", *_party("Client", body["buyer"])]
    lines += ["-" * WIDTH, "Désignation"]
    for line in body["lines"]:
        qty = str(line["qty"]).replace(".", ",")
        lines.append(f"  {line['label']}")
        lines.append(
            _row(
                f"    {qty} x {format_cents(line['unit_price'])} HT ({format_rate(line['rate'])})",
                format_cents(line["net"]),
            )
        )
    lines += ["-" * WIDTH]
    for vat in body.get("vat", ()):
        lines.append(
            _row(
                f"TVA {format_rate(vat['rate'])} sur {format_cents(vat['base'])}",
                format_cents(vat["vat"]),
            )
        )
    lines += [
        _row("Total HT", format_cents(body["total_excl"])),
        _row("Total TVA", format_cents(body["total_vat"])),
        _row("TOTAL TTC", format_cents(body["total"])),
    ]
    if body.get("payment_terms"):
        lines += ["-" * WIDTH, body["payment_terms"]]
    lines.append("=" * WIDTH)
    return "\n".join(lines)


def _payment(detail: RecordDetail) -> str:
    from app.documents.text import method_label

    body = detail.body
    lines = [
        f"Règlement {detail.doc_number}",
        f"Facture réglée : {body.get('invoice', '—')}",
        f"Montant : {format_cents(body['total'])}",
        f"Mode : {method_label(body.get('method', ''))}",
    ]
    if "outstanding_after" in body:
        lines.append(f"Reste dû après ce règlement : {format_cents(body['outstanding_after'])}")
    return "\n".join(lines)


def _event(detail: RecordDetail) -> str:
    from app.ledger.events import EventCode

    code = detail.body.get("code", "")
    try:
        label = EventCode(code).label
    except ValueError:
        label = code
    lines = [f"Événement technique : {label}", f"Code : {code}"]
    lines += _flatten(detail.body.get("detail") or {}, "  ")
    return "\n".join(lines)


def _generic(detail: RecordDetail) -> str:
    return "\n".join([f"{detail.record_type.label} {detail.doc_number}", *_flatten(detail.body)])


def _flatten(value: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for name, item in sorted(value.items()):
        key = FIELD_LABELS.get(name, name)
        if isinstance(item, dict):
            lines.append(f"{indent}{key} :")
            lines += _flatten(item, indent + "  ")
        elif isinstance(item, list):
            shown = ", ".join(
                x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in item
            )
            lines.append(f"{indent}{key} : {shown or '—'}")
        elif isinstance(item, bool):
            lines.append(f"{indent}{key} : {'oui' if item else 'non'}")
        else:
            lines.append(f"{indent}{key} : {'—' if item is None else item}")
    return lines
