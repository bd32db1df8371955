"""The year's closures and technical events as the pack shows them: one CSV an auditor's
spreadsheet opens, one PDF to read, both from the same rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents.audit import render_table_pdf
from app.documents.receipt import shop_time
from app.ledger import canonical
from app.ledger.closures import Closure, list_closures
from app.ledger.events import EventCode
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType, document_number
from app.ledger.settings import FiscalSettings
from app.values.money import format_cents

CLOSURE_KINDS = (RecordType.DAY_CLOSURE, RecordType.MONTH_CLOSURE, RecordType.YEAR_CLOSURE)
CLOSURE_HEADER = (
    "Clôture",
    "Période",
    "Clôturée le",
    "Opérateur",
    "Enr. couverts",
    "Tickets",
    "Total HT",
    "TVA",
    "Total TTC",
    "Grand total de la période",
    "Total perpétuel",
    "Total perpétuel en valeur absolue",
    "Empreinte de la clôture",
)
EVENT_HEADER = ("N° d'enregistrement", "Date et heure", "Opérateur", "Événement", "Détail")


def first_use(session: Session, timezone: str) -> str:
    """The day of the ledger's first record: when the shop started using the software."""
    ts = session.scalar(select(JournalRecord.ts).order_by(JournalRecord.seq).limit(1))
    return shop_time(ts, timezone)[:10] if ts else "…"


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]], mark: str | None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    if mark:
        writer.writerow([mark])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _period(period: str) -> str:
    """2026-03-17 -> 17/03/2026, 2026-03 -> 03/2026, 2026 -> 2026."""
    return "/".join(reversed(period.split("-")))


def _closure_row(closure: Closure, timezone: str) -> list[str]:
    body, totals = closure.body, closure.totals
    return [
        document_number(closure.record_type, closure.number),
        _period(closure.period),
        shop_time(closure.ts, timezone),
        closure.operator,
        f"n°{body['first_seq']} à n°{body['last_seq']}",
        str(totals.tickets),
        format_cents(totals.total_excl),
        format_cents(totals.total_vat),
        format_cents(totals.total),
        format_cents(body["grand_total"]),
        format_cents(body["perpetual_total"]),
        format_cents(body["perpetual_abs_total"]),
        closure.hash,
    ]


def closure_rows(session: Session, year: int, timezone: str) -> list[list[str]]:
    """Every day, month and year closure of ``year``, in that order of kind, then date."""
    rows: list[list[str]] = []
    for kind in CLOSURE_KINDS:
        for closure in list_closures(session, kind, period_prefix=f"{year:04d}"):
            rows.append(_closure_row(closure, timezone))
    return rows


def closure_files(
    session: Session, year: int, shop: FiscalSettings, timezone: str, mark: str | None
) -> Iterator[tuple[str, bytes]]:
    rows = closure_rows(session, year, timezone)
    yield "04-clotures.csv", _csv(CLOSURE_HEADER, rows, mark)
    shown = [[*row[:5], row[8], row[9], row[10], row[12][:16] + "…"] for row in rows]
    yield (
        "04-clotures.pdf",
        render_table_pdf(
            f"Clôtures de l'exercice {year}",
            (
                "Clôtures journalières (ZJ), mensuelles (ZM) et annuelles (ZA) avec le grand "
                "total de chaque période et le total perpétuel, jamais remis à zéro.",
                "Le fichier 04-clotures.csv donne aussi les totaux HT et TVA, le total perpétuel "
                "en valeur absolue et l'empreinte complète de chaque clôture.",
            ),
            (*CLOSURE_HEADER[:5], "Total TTC", "Grand total", "Total perpétuel", "Empreinte"),
            shown,
            (0.11, 0.1, 0.14, 0.1, 0.12, 0.1, 0.1, 0.11, 0.12),
            shop=shop,
            watermark=mark,
        ),
    )


def _detail(detail: object) -> str:
    if not isinstance(detail, dict):
        return ""
    return ", ".join(f"{key} = {value}" for key, value in sorted(detail.items()))


def event_rows(session: Session, year: int, timezone: str) -> list[list[str]]:
    """The technical events journal (JET) of ``year``, in chain order."""
    query = (
        select(JournalRecord.seq, JournalRecord.ts, JournalRecord.operator, JournalRecord.canonical)
        .where(
            JournalRecord.record_type == RecordType.EVENT,
            JournalRecord.business_date >= f"{year:04d}-01-01",
            JournalRecord.business_date <= f"{year:04d}-12-31",
        )
        .order_by(JournalRecord.seq)
    )
    rows = []
    for seq, ts, operator, data in session.execute(query):
        body = canonical.decode(data)["body"]
        code = body.get("code", "")
        try:
            label = EventCode(code).label
        except ValueError:
            label = code
        rows.append(
            [str(seq), shop_time(ts, timezone), operator, label, _detail(body.get("detail"))]
        )
    return rows


def event_files(
    session: Session, year: int, shop: FiscalSettings, timezone: str, mark: str | None
) -> Iterator[tuple[str, bytes]]:
    rows = event_rows(session, year, timezone)
    yield "05-evenements-techniques.csv", _csv(EVENT_HEADER, rows, mark)
    yield (
        "05-evenements-techniques.pdf",
        render_table_pdf(
            f"Journal des événements techniques {year}",
            (
                "Chaque événement est un enregistrement du journal fiscal, chaîné et signé comme "
                "les ventes : son numéro permet de le retrouver dans le rapport de vérification "
                "et dans les archives.",
            ),
            EVENT_HEADER,
            rows,
            (0.1, 0.16, 0.12, 0.2, 0.42),
            shop=shop,
            watermark=mark,
        ),
    )


def archive_howto(copied: bool) -> str:
    where = (
        "Les archives signées de l'exercice sont dans ce dossier."
        if copied
        else "Les archives de l'exercice sont trop volumineuses pour être copiées ici : "
        "liste.csv donne le nom et l'empreinte SHA-256 de chacune ; demandez-les à "
        "l'entreprise et comparez leur empreinte."
    )
    return (
        f"{where}\r\n\r\n"
        "Pour vérifier une archive sur n'importe quel poste, sans la base de l'entreprise :\r\n"
        "  comptoir archive verify FICHIER.zip\r\n\r\n"
        "La commande contrôle la signature du manifeste de l'archive avec la clé publique "
        "qu'elle contient, l'empreinte de chaque fichier, puis l'empreinte et la signature de "
        "chaque enregistrement de la chaîne. Sans Comptoir, le manifeste (manifest.json) "
        "liste l'empreinte SHA-256 de chaque fichier, que tout outil (sha256sum, "
        "Get-FileHash) recalcule.\r\n"
    )
