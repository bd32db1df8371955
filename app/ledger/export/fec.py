"""FEC: the *fichier des écritures comptables* of a fiscal year (art. A47 A-1 du LPF).

The tax administration may ask for the accounting entries of a year as one flat file of
18 columns. Comptoir is not an accounting package, but its ledger holds everything the
sales side of the books needs, in exact cents, so the FEC is derived from the canonical
bodies of the year's records (``business_date`` in the year), never from mutable tables.

Format (kept in one place below): UTF-8 without BOM, the header line first, fields
separated by a tab, lines ended by CRLF, dates ``AAAAMMJJ``, amounts with a decimal comma
and no thousands separator, ``0,00`` on the side of a line that carries nothing, every
other empty field left empty (no lettering, no foreign currency: everything is in euros).
The file is named ``<SIREN>FEC<AAAAMMJJ>.txt`` with the last day of the (calendar) year.

How records become entries, all balanced to the cent by construction (checked anyway):

- journal ``VE`` (Ventes), one entry per ticket, so that each entry points at one
  signed ticket (``PieceRef`` = ``T000123``): debit the payment accounts, credit 707000
  per VAT rate (the base) and the 44571x VAT account of the rate. Cancelling and refund
  tickets carry negative amounts, which turns every line to the other side.
- journal ``VE``, invoices: debit 411000 (auxiliary account of the customer), credit
  706000 (services) / 707000 (goods) per rate, 708500 for charges (shipping…), debit
  709000 for document-level allowances, credit 44571x. Credit notes are the mirror.
  An invoice made for a till ticket ("Facturer ce ticket") is *not* posted: the ticket's
  entry already holds that sale and its payment; posting both would count it twice.
- journals ``CA`` (cash), ``BQ`` (card, cheque) and ``OD`` (voucher): payments received
  against invoices, debit the payment account, credit 411000 of the invoice's customer.
- journal ``AC`` (Achats), self-billed invoices: the shop's purchases from a supplier
  under its mandate, the mirror of a sales invoice: credit 401000 (auxiliary account of
  the supplier), debit 607000 (goods) / 604000 (services) per rate, 624100 for charges,
  credit 609000 for allowances, debit 445660 for the deductible VAT. Self-billed credit
  notes are the mirror. Reverse-charge lines carry no VAT on the invoice: the VAT the
  shop owes and deducts on them is left to the accountant.

Card and cheque takings go straight to 512000 Banque: Comptoir does not see the bank's
remittances, and the accountant reconciles (or reclassifies to 511x) from the statement.
Vouchers (bons d'achat) are customer advances, 419100. All VAT is posted to 44571x at
the invoice date; VAT on services due on payment (no option for debits) is left for the
accountant to move to 44574x, since a (category, rate) group may mix goods and services.

The auxiliary customer account is ``C`` + the SIREN (or the VAT number, or the name in
capitals for a private customer): the ledger keeps the buyer as it was on the invoice,
not a reference to the mutable customer file. ``ValidDate`` is the date of the day
closure (Z) that sealed the record, or the entry date while the day is still open.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import itertools
import os
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput, LedgerError
from app.ledger import canonical
from app.ledger.archive.purge import purged_years
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType, document_number
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger
from app.values.money import plain_cents
from app.values.vat import format_rate

FEC_COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
ENCODING = "utf-8"
SEPARATOR = "\t"
LINE_END = "\r\n"

JOURNALS = {
    "VE": "Ventes",
    "AC": "Achats",
    "CA": "Caisse",
    "BQ": "Banque",
    "OD": "Opérations diverses",
}


@dataclass(frozen=True)
class Account:
    number: str
    label: str


CASH = Account("530000", "Caisse")
BANK = Account("512000", "Banque")
VOUCHERS = Account("419100", "Clients - bons d'achat")
CUSTOMERS = Account("411000", "Clients")
GOODS = Account("707000", "Ventes de marchandises")
SERVICES = Account("706000", "Prestations de services")
CHARGES = Account("708500", "Ports et frais accessoires facturés")
ALLOWANCES = Account("709000", "Rabais, remises et ristournes accordés")
VAT_ACCOUNTS = {
    2000: Account("445711", "TVA collectée 20 %"),
    1000: Account("445712", "TVA collectée 10 %"),
    550: Account("445713", "TVA collectée 5,5 %"),
    210: Account("445714", "TVA collectée 2,1 %"),
}
OTHER_VAT = Account("445710", "TVA collectée (autres taux)")
SUPPLIERS = Account("401000", "Fournisseurs")
PURCHASED_GOODS = Account("607000", "Achats de marchandises")
PURCHASED_SERVICES = Account("604000", "Achats d'études et prestations de services")
PURCHASE_CHARGES = Account("624100", "Transports sur achats")
PURCHASE_ALLOWANCES = Account("609000", "Rabais, remises et ristournes obtenus sur achats")
DEDUCTIBLE_VAT = Account("445660", "TVA déductible sur autres biens et services")
# method -> (account, journal of an invoice payment, label)
PAYMENT_METHODS = {
    "cash": (CASH, "CA", "espèces"),
    "card": (BANK, "BQ", "carte bancaire"),
    "cheque": (BANK, "BQ", "chèque"),
    "voucher": (VOUCHERS, "OD", "bon d'achat"),
}
TICKET_KINDS = {"sale": "Vente", "cancellation": "Annulation", "refund": "Remboursement"}
POSTED_TYPES = (
    RecordType.TICKET,
    RecordType.INVOICE,
    RecordType.CREDIT_NOTE,
    RecordType.PAYMENT,
    RecordType.SELF_INVOICE,
    RecordType.SELF_CREDIT,
)


@dataclass(frozen=True)
class Side:
    """The accounts of invoices on one side of the books: the shop's sales, or its
    purchases drawn up by self-billing. ``direction`` 1 posts the party on the debit
    side (a customer owes), -1 on the credit side (the shop owes a supplier)."""

    journal: str
    direction: int
    party: Account
    party_field: str  # the body's party the entry is with: "buyer" or "seller"
    aux_prefix: str
    goods: Account
    services: Account
    charges: Account
    allowances: Account
    vat: Callable[[int], Account]  # the VAT account of a rate
    words: tuple[str, str, str]  # the invoice, the credit note, the lines' word


SALES = Side(
    "VE",
    1,
    CUSTOMERS,
    "buyer",
    "C",
    GOODS,
    SERVICES,
    CHARGES,
    ALLOWANCES,
    lambda rate: VAT_ACCOUNTS.get(rate, OTHER_VAT),
    ("Facture", "Avoir", "ventes"),
)
PURCHASES = Side(
    "AC",
    -1,
    SUPPLIERS,
    "seller",
    "F",
    PURCHASED_GOODS,
    PURCHASED_SERVICES,
    PURCHASE_CHARGES,
    PURCHASE_ALLOWANCES,
    lambda _rate: DEDUCTIBLE_VAT,
    ("Autofacture", "Avoir d'autofacturation", "achats"),
)


@dataclass(frozen=True)
class Posting:
    """One line of an entry: ``amount`` in cents, positive on the debit side."""

    account: Account
    amount: int
    label: str
    aux: tuple[str, str] | None = None  # (CompAuxNum, CompAuxLib)


@dataclass(frozen=True)
class Entry:
    """One balanced accounting entry made from one ledger record."""

    journal: str
    seq: int
    day: date
    piece_ref: str
    label: str
    postings: tuple[Posting, ...]


@dataclass(frozen=True)
class FecSummary:
    entries: int
    lines: int
    debit: int  # cents
    credit: int  # cents


# -- names and formats --------------------------------------------------------------------
def fec_file_name(siren: str, closing: date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``, the name the administration expects."""
    if len(siren) != 9 or not siren.isdigit():
        raise InvalidInput(
            "Le SIREN de la boutique est manquant ou invalide : renseignez le SIRET "
            "dans les réglages avant de produire le FEC."
        )
    return f"{siren}FEC{closing:%Y%m%d}.txt"


# A year's FEC has hundreds of thousands of lines but few distinct dates and amounts: the
# helpers called for every field keep their recent answers.
@lru_cache(maxsize=4096)
def _fec_date(day: date) -> str:
    return f"{day:%Y%m%d}"


@lru_cache(maxsize=1 << 16)
def _parse_amount(text: str) -> int:
    euros, _, rest = text.partition(",")
    if not (euros.isdigit() and len(rest) == 2 and rest.isdigit()):
        raise InvalidInput(f"Montant illisible dans le FEC : {text!r}.")
    return int(euros) * 100 + int(rest)


def _text(value: str) -> str:
    """A field never holds the separator or a line break."""
    return " ".join(value.split())


def _method(name: str, seq: int) -> tuple[Account, str, str]:
    try:
        return PAYMENT_METHODS[name]
    except KeyError:
        raise LedgerError(
            f"Moyen de paiement inconnu ({name!r}) dans l'enregistrement n°{seq} : "
            "le FEC ne peut pas être produit."
        ) from None


def _customer(buyer: dict[str, Any], prefix: str = "C") -> tuple[str, str]:
    """Auxiliary account of an invoice's buyer (or, ``prefix`` F, of a self-billed
    invoice's supplier), stable across invoices."""
    ident = buyer.get("siren") or buyer.get("vat_number") or ""
    if not ident:
        plain = unicodedata.normalize("NFKD", buyer["name"]).encode("ascii", "ignore").decode()
        ident = "".join(ch for ch in plain.upper() if ch.isalnum())[:16] or "DIVERS"
    return f"{prefix}{ident}", _text(buyer["name"])


# -- records -> entries -------------------------------------------------------------------
def _ticket_entry(seq: int, number: int, day: date, body: dict[str, Any]) -> Entry:
    ref = document_number(RecordType.TICKET, number)
    label = f"{TICKET_KINDS.get(body['kind'], 'Ticket')} {ref}"
    if "original" in body:
        label += f" (ticket {document_number(RecordType.TICKET, body['original']['number'])})"
    postings = []
    for payment in body["payments"]:
        account, _, method = _method(payment["method"], seq)
        postings.append(Posting(account, payment["amount"], f"{label} {method}"))
    for row in body["vat"]:
        rate = format_rate(row["rate"])
        postings.append(Posting(GOODS, -row["base"], f"{label} ventes TVA {rate}"))
        postings.append(Posting(SALES.vat(row["rate"]), -row["vat"], f"{label} TVA {rate}"))
    return Entry("VE", seq, day, ref, label, tuple(postings))


def _invoice_entry(
    seq: int, day: date, body: dict[str, Any], sign: int, side: Side = SALES
) -> Entry:
    """An invoice (``sign`` 1) or a credit note (``sign`` -1, every side reversed), of the
    shop's sales or, self-billed, of its purchases (every side reversed again)."""
    ref = body["number"]
    party = body[side.party_field]
    invoice_word, credit_word, lines_word = side.words
    label = f"{invoice_word if sign > 0 else credit_word} {ref} {_text(party['name'])}"
    aux = _customer(party, side.aux_prefix)
    d = sign * side.direction
    postings = [Posting(side.party, d * body["total"], label, aux)]
    amounts: dict[tuple[Account, int], int] = defaultdict(int)
    for line in body["lines"]:
        account = side.services if line.get("nature") == "services" else side.goods
        amounts[(account, line["rate"])] += line["net"]
    for (account, rate), net in sorted(
        amounts.items(), key=lambda kv: (kv[0][0].number, -kv[0][1])
    ):
        postings.append(Posting(account, -d * net, f"{ref} {lines_word} TVA {format_rate(rate)}"))
    for allowance in body["allowances"]:
        rate = format_rate(allowance["rate"])
        postings.append(Posting(side.allowances, d * allowance["amount"], f"{ref} remise {rate}"))
    for charge in body["charges"]:
        rate = format_rate(charge["rate"])
        postings.append(Posting(side.charges, -d * charge["amount"], f"{ref} frais TVA {rate}"))
    for row in body["vat"]:
        text = f"{ref} TVA {format_rate(row['rate'])}"
        postings.append(Posting(side.vat(row["rate"]), -d * row["vat"], text))
    return Entry(side.journal, seq, day, ref, label, tuple(postings))


def _payment_entry(
    seq: int, number: int, day: date, body: dict[str, Any], buyer: dict[str, Any]
) -> Entry:
    account, journal, method = _method(body["method"], seq)
    ref = document_number(RecordType.PAYMENT, number)
    label = f"Règlement {body['invoice']} {method}"
    aux = _customer(buyer)
    postings = (
        Posting(account, body["total"], label),
        Posting(CUSTOMERS, -body["total"], label, aux),
    )
    return Entry(journal, seq, day, ref, label, postings)


def _check_balanced(entry: Entry) -> Entry:
    """Bodies carry exact cents: an entry that does not balance means a broken record."""
    if sum(p.amount for p in entry.postings) != 0:
        raise LedgerError(
            f"L'écriture de la pièce {entry.piece_ref} n'est pas équilibrée : "
            "vérifiez l'intégrité du journal (comptoir verify).",
            detail=f"seq={entry.seq} postings={entry.postings!r}",
        )
    return entry


def _buyer_of(session: Session, seq: int, known: dict[int, dict[str, Any]]) -> dict[str, Any]:
    if seq not in known:
        data = session.scalar(select(JournalRecord.canonical).where(JournalRecord.seq == seq))
        if data is None:
            raise LedgerError(f"Le règlement renvoie à l'enregistrement n°{seq}, introuvable.")
        known[seq] = canonical.decode(data)["body"]["buyer"]
    return known[seq]


def _year_bounds(year: int) -> tuple[date, date]:
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise InvalidInput(f"Exercice invalide : {year!r} (attendu une année, ex. 2026).")
    return date(year, 1, 1), date(year, 12, 31)


def year_entries(session: Session, year: int) -> list[Entry]:
    """The balanced entries of a fiscal year, in ledger (chronological) order."""
    return list(_iter_entries(session, year))


def _iter_entries(session: Session, year: int) -> Iterator[Entry]:
    """``year_entries`` one at a time: a busy year is never held whole in memory."""
    start, end = _year_bounds(year)
    rows = session.execute(
        select(
            JournalRecord.seq,
            JournalRecord.record_type,
            JournalRecord.number,
            JournalRecord.business_date,
            JournalRecord.ref_seq,
            JournalRecord.canonical,
        )
        .where(
            JournalRecord.record_type.in_([t.value for t in POSTED_TYPES]),
            JournalRecord.business_date.between(start.isoformat(), end.isoformat()),
        )
        .order_by(JournalRecord.business_date, JournalRecord.seq)
    )
    buyers: dict[int, dict[str, Any]] = {}
    for seq, record_type, number, business_date, ref_seq, data in rows:
        body = canonical.decode(data)["body"]
        day = date.fromisoformat(business_date)
        if record_type == RecordType.TICKET:
            entry = _ticket_entry(seq, number, day, body)
        elif record_type == RecordType.PAYMENT:
            entry = _payment_entry(seq, number, day, body, _buyer_of(session, ref_seq, buyers))
        elif record_type in (RecordType.SELF_INVOICE, RecordType.SELF_CREDIT):
            sign = 1 if record_type == RecordType.SELF_INVOICE else -1
            entry = _invoice_entry(seq, day, body, sign, PURCHASES)
        else:
            buyers[seq] = body["buyer"]
            if record_type == RecordType.INVOICE and body.get("from_ticket"):
                continue  # the ticket's entry already holds this sale
            sign = 1 if record_type == RecordType.INVOICE else -1
            entry = _invoice_entry(seq, day, body, sign)
        entry = _without_zero_lines(entry)
        if entry.postings:
            yield _check_balanced(entry)


def _without_zero_lines(entry: Entry) -> Entry:
    """A rate without VAT (0 %) or an empty side adds nothing to the books."""
    return replace(entry, postings=tuple(p for p in entry.postings if p.amount))


def _closure_dates(session: Session, after_seq: int) -> tuple[list[int], list[str]]:
    rows = session.execute(
        select(JournalRecord.seq, JournalRecord.business_date)
        .where(JournalRecord.record_type == RecordType.DAY_CLOSURE, JournalRecord.seq > after_seq)
        .order_by(JournalRecord.seq)
    ).all()
    return [row[0] for row in rows], [row[1] for row in rows]


# -- entries -> rows ------------------------------------------------------------------
def build_fec(session: Session, year: int) -> list[list[str]]:
    """The FEC lines of ``year`` (without the header); refuses a year with no entry, and
    a purged year, whose entries are no longer all online."""
    return list(iter_fec_rows(session, year))


def iter_fec_rows(session: Session, year: int) -> Iterator[list[str]]:
    """``build_fec`` one line at a time, so that the FEC of a busy year is written in
    bounded memory. The refusals come before the first line."""

    if str(year) in purged_years(session):
        raise ComptoirError(
            f"L'exercice {year} a été purgé : ses écritures ne sont plus dans le journal mais "
            "dans son archive. Le FEC d'un exercice se produit avant sa purge."
        )
    entries = _iter_entries(session, year)
    first = next(entries, None)
    if first is None:
        raise ComptoirError(
            f"Aucune écriture pour l'exercice {year} : il n'y a pas de FEC à produire."
        )
    return _rows(session, first, entries)


def _rows(session: Session, first: Entry, rest: Iterator[Entry]) -> Iterator[list[str]]:
    closure_seqs, closure_days = _closure_dates(session, first.seq)
    numbers: dict[str, int] = defaultdict(int)
    for entry in itertools.chain((first,), rest):
        numbers[entry.journal] += 1
        found = bisect.bisect_right(closure_seqs, entry.seq)
        valid = date.fromisoformat(closure_days[found]) if found < len(closure_days) else entry.day
        for posting in entry.postings:
            yield _row(entry, numbers[entry.journal], posting, valid)


def _row(entry: Entry, number: int, posting: Posting, valid: date) -> list[str]:
    aux_number, aux_label = posting.aux or ("", "")
    debit, credit = max(posting.amount, 0), max(-posting.amount, 0)
    return [
        entry.journal,
        JOURNALS[entry.journal],
        str(number),
        _fec_date(entry.day),
        posting.account.number,
        posting.account.label,
        aux_number,
        aux_label,
        entry.piece_ref,
        _fec_date(entry.day),
        _text(posting.label),
        plain_cents(debit),
        plain_cents(credit),
        "",
        "",
        _fec_date(valid),
        "",
        "",
    ]


def summarize_rows(rows: Iterable[list[str]]) -> FecSummary:
    entries: set[tuple[str, str]] = set()
    lines = debit = credit = 0
    for row in rows:
        entries.add((row[0], row[2]))
        lines += 1
        debit += _parse_amount(row[11])
        credit += _parse_amount(row[12])
    return FecSummary(len(entries), lines, debit, credit)


def read_fec(path: Path) -> FecSummary:
    """Read a FEC back: checks the header and the width of every line, sums both sides."""
    with path.open(encoding=ENCODING, newline="") as handle:
        reader = csv.reader(handle, delimiter=SEPARATOR, quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or tuple(header) != FEC_COLUMNS:
            raise InvalidInput(f"{path.name} : l'en-tête n'est pas celui d'un FEC.")
        rows = list(_checked_width(reader, path.name))
    return summarize_rows(rows)


def _checked_width(rows: Iterator[list[str]], name: str) -> Iterator[list[str]]:
    for index, row in enumerate(rows, start=2):
        if len(row) != len(FEC_COLUMNS):
            raise InvalidInput(f"{name}, ligne {index} : {len(row)} champs au lieu de 18.")
        yield row


# -- writing ----------------------------------------------------------------------------
def write_fec(ledger: Ledger, year: int, out_dir: Path, *, operator: str) -> Path:
    """Write the FEC of ``year`` into ``out_dir`` and journal the export; returns the path.

    The file appears complete or not at all (temporary file, then rename). If the export
    cannot be journaled the file is removed: every FEC handed out is in the JET.
    """
    if ledger.kind == "training":
        raise InvalidInput("Le FEC ne se produit pas depuis le journal de formation.")
    with ledger.reader() as session:
        siren = fiscal_settings(session).siren
        name = fec_file_name(siren, _year_bounds(year)[1])
        rows = iter_fec_rows(session, year)  # refusals come here, before any file
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / name
        summary, digest = _write_atomically(path, rows)
    try:
        with ledger.transaction() as session:
            log_event(
                session,
                EventCode.EXPORT,
                operator=operator,
                format="FEC",
                year=year,
                file=name,
                entries=summary.entries,
                lines=summary.lines,
                sha256=digest,
            )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return path


def _write_atomically(path: Path, rows: Iterator[list[str]]) -> tuple[FecSummary, str]:
    """Write the header and ``rows`` as they come, then rename: the file appears complete
    or not at all. Returns what was written (counts, totals) and its SHA-256."""
    temporary = path.with_name(f".{path.name}.tmp")
    digest = hashlib.sha256()
    entries: set[tuple[str, str]] = set()
    lines = debit = credit = 0
    try:
        with temporary.open("wb") as handle:
            header = (SEPARATOR.join(FEC_COLUMNS) + LINE_END).encode(ENCODING)
            handle.write(header)
            digest.update(header)
            for row in rows:
                data = (SEPARATOR.join(row) + LINE_END).encode(ENCODING)
                handle.write(data)
                digest.update(data)
                entries.add((row[0], row[2]))
                lines += 1
                debit += _parse_amount(row[11])
                credit += _parse_amount(row[12])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ComptoirError(
            f"Impossible d'écrire le FEC dans {path.parent} ({exc.strerror}).",
            detail=str(exc),
        ) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return FecSummary(len(entries), lines, debit, credit), digest.hexdigest()
