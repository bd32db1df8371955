"""Issuing with validation: the Factur-X an invoice would produce is checked (XSD,
EN 16931, BR-FR) before the invoice is recorded; an invoice with a blocking finding is
never issued. The Factur-X PDF is then kept beside the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.documents.invoice import render_invoice_pdf
from app.einvoice import facturx
from app.einvoice.corrections import prepare_credit_note
from app.einvoice.invoices import InvoiceDraft
from app.einvoice.issuing import IssuedDocument, Prepared, get_document, prepare_invoice
from app.einvoice.pdp.outbox import enqueue, transmits
from app.einvoice.selfbilling.documents import prepare_self_billed, prepare_self_credit
from app.einvoice.validate import Finding, ValidationReport, validate_xml_bytes
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.files import private_dir, write_private_bytes
from app.ledger.journal import Recorded
from app.ledger.models import JournalRecord
from app.ledger.operators import Permission, require
from app.ledger.store import Ledger, ledger_of
from app.ledger.verify.receipt import check_code


class InvoiceRejected(InvalidInput):
    """The Factur-X would not be valid: the findings say why."""

    def __init__(self, report: ValidationReport) -> None:
        fatal = report.fatal
        count = f"{len(fatal)} erreur{'s' if len(fatal) > 1 else ''} bloquante"
        count += "s" if len(fatal) > 1 else ""
        first = f" — {fatal[0].message.rstrip('. ')}." if fatal else "."
        super().__init__(
            f"La facture ne peut pas être émise : {count} dans le Factur-X (détail "
            f"ci-dessous){first} {report.rules_line()}".rstrip()
        )
        self.findings: tuple[Finding, ...] = tuple(fatal)
        self.report = report


@dataclass(frozen=True)
class IssuedInvoice:
    record: Recorded
    doc_number: str
    pdf: Path
    report: ValidationReport


def invoices_dir(ledger: Ledger) -> Path:
    folder = private_dir(ledger.path.with_name(f"{ledger.path.stem}-documents"))
    return private_dir(folder / "factures")


def _envelope(session: Session, prepared: Prepared) -> dict[str, Any]:
    ledger = ledger_of(session)
    return {
        "type": prepared.record_type.value,
        "number": prepared.number,
        "ts": canonical.format_ts(ledger.clock()),
        "date": prepared.body["issue_date"],
    }


def _issue(session: Session, prepared: Prepared, operator: str) -> IssuedInvoice:
    ledger = ledger_of(session)
    training = ledger.kind == "training"
    envelope = _envelope(session, prepared)
    data = facturx.data_dict(envelope, prepared.body, training=training)
    xml = facturx.invoice_xml(data)
    report = validate_xml_bytes(xml)
    if not report.ok:
        raise InvoiceRejected(report)
    record = prepared.append(session, operator=operator)
    check = check_code(ledger.ledger_id, record.seq, record.hash, record.signature)
    visual = render_invoice_pdf(data, training=training, check=check)
    pdf = facturx.facturx_pdf(data, visual, xml=xml)
    path = invoices_dir(ledger) / f"{prepared.body['number']}.pdf"
    write_private_bytes(path, pdf)
    if transmits(session, prepared.body):  # queued in the same transaction as the issue
        enqueue(session, record, pdf)
    return IssuedInvoice(record, prepared.body["number"], path, report)


def issue_and_store(session: Session, draft: InvoiceDraft, *, operator: str) -> IssuedInvoice:
    return _issue(session, prepare_invoice(session, draft), operator)


def credit_and_store(
    session: Session,
    invoice: str,
    *,
    operator: str,
    reason: str,
    lines: list[tuple[int, Any]] | None = None,
) -> IssuedInvoice:
    return _issue(
        session, prepare_credit_note(session, invoice, reason=reason, lines=lines), operator
    )


def self_bill_and_store(
    session: Session, mandate: int | str, draft: InvoiceDraft, *, operator: str
) -> IssuedInvoice:
    """A self-billed invoice (389) under a supplier's mandate: validated against the
    official rules, recorded, its Factur-X kept and queued for the platform like any
    invoice."""
    require(session, operator, Permission.SELL)
    return _issue(session, prepare_self_billed(session, mandate, draft), operator)


def self_credit_and_store(
    session: Session,
    invoice: str,
    *,
    operator: str,
    reason: str,
    lines: list[tuple[int, Any]] | None = None,
) -> IssuedInvoice:
    """A self-billed credit note (261) on a self-billed invoice, whole or some lines."""
    require(session, operator, Permission.CORRECT)
    return _issue(
        session, prepare_self_credit(session, invoice, reason=reason, lines=lines), operator
    )


def export_pdf(session: Session, doc_number: str, out: Path | None = None) -> Path:
    """Rebuild an issued document's Factur-X PDF from its ledger record."""
    ledger = ledger_of(session)
    document: IssuedDocument = get_document(session, doc_number)
    row = session.get(JournalRecord, document.seq)
    assert row is not None  # get_document read it
    pdf = facturx.build_invoice_pdf(
        document.envelope,
        document.body,
        training=ledger.kind == "training",
        check=check_code(ledger.ledger_id, row.seq, row.hash, row.signature),
    )
    path = out or invoices_dir(ledger) / f"{document.doc_number}.pdf"
    if path.is_dir():
        path = path / f"{document.doc_number}.pdf"
    write_private_bytes(path, pdf)
    return path
