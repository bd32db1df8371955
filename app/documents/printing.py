"""Producing documents: a PDF kept beside the ledger, the receipt printer when one is set
up, and a trace in the ledger for every print (duplicates are numbered records)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.documents.escpos import (
    kick_drawer,
    make_printer,
    print_receipt,
    print_test_page,
)
from app.documents.preferences import printer_config, receipt_texts
from app.documents.receipt import PrintedReceipt, receipt_print, render_receipt_pdf
from app.documents.reports import render_closure_pdf, render_x_report_pdf
from app.documents.text import closure_text, x_report_text
from app.errors import InvalidInput
from app.ledger.backup.copies import backup_line
from app.ledger.closures import closure_numbered, get_closure, x_report
from app.ledger.events import EventCode, log_event
from app.ledger.files import private_dir, write_private_bytes
from app.ledger.records import RecordType, document_number
from app.ledger.reprints import record_duplicate
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger, ledger_of
from app.ledger.training import is_training
from app.ledger.verify.receipt import check_code
from app.sales.service import get_ticket


@dataclass(frozen=True)
class Output:
    """Where a document went: its PDF, and whether the receipt printer printed it."""

    pdf: Path
    printed: bool
    copy: int | None = None


def documents_dir(ledger: Ledger, kind: str) -> Path:
    """PDFs live beside the ledger file, in a folder of its own per kind of document."""
    folder = private_dir(ledger.path.with_name(f"{ledger.path.stem}-documents"))
    return private_dir(folder / kind)


def _send_to_printer(
    session: Session, text: str | PrintedReceipt, *, open_drawer: bool = False
) -> tuple[bool, str]:
    config = printer_config(session)
    if config["kind"] == "none":
        return False, "none"
    printer = make_printer(config)
    paper = text if isinstance(text, PrintedReceipt) else PrintedReceipt(text, None, "")
    try:
        print_receipt(printer, paper.text, qr=paper.qr, after=paper.after, open_drawer=open_drawer)
    finally:
        _close(printer)
    return True, config["kind"]


def _close(printer: Any) -> None:
    # Closing a printer that failed must not hide the first error.
    with contextlib.suppress(Exception):
        printer.close()


def output_receipt(
    session: Session,
    number: int,
    *,
    operator: str,
    duplicate: bool = False,
    open_drawer: bool = False,
) -> Output:
    """Produce a ticket's receipt. A duplicate is recorded first and says "DUPLICATA n°k".

    Raises PrinterError when the printer fails; the caller's transaction then rolls
    back the trace of a print that did not happen.
    """
    ledger = ledger_of(session)
    ticket = get_ticket(session, number)
    copy = None
    if duplicate:
        copy = record_duplicate(session, RecordType.TICKET, number, operator=operator).body["copy"]
    shop = fiscal_settings(session)
    header, footer = receipt_texts(session)
    training = ledger.kind == "training"
    options = dict(
        header=header, footer=footer, duplicate=copy, training=training, timezone=ledger.timezone
    )
    check = check_code(ledger.ledger_id, ticket.seq, ticket.hash, ticket.signature)
    pdf = render_receipt_pdf(ticket, shop, check=check, **options)
    suffix = f"-duplicata-{copy}" if copy else ""
    path = documents_dir(ledger, "tickets") / f"{ticket.doc_number}{suffix}.pdf"
    write_private_bytes(path, pdf)
    printed, kind = _send_to_printer(
        session, receipt_print(ticket, shop, check=check, **options), open_drawer=open_drawer
    )
    log_event(
        session,
        EventCode.PRINT,
        operator=operator,
        document=ticket.doc_number,
        copy=copy,
        printer=kind,
    )
    if open_drawer and printed:
        log_event(session, EventCode.DRAWER_OPEN, operator=operator, document=ticket.doc_number)
    return Output(path, printed, copy)


def output_closure(
    session: Session,
    kind: RecordType,
    period: str,
    *,
    operator: str,
    duplicate: bool = False,
    number: int | None = None,
) -> Output:
    """Produce a Z report (A4 PDF, and the text version on the receipt printer).

    ``number`` names the closure when a day was closed more than once (``period`` alone
    names its first Z). The first print says where the last backup of the ledger is; a
    duplicate reproduces the closure only."""
    ledger = ledger_of(session)
    if number is not None:
        closure = closure_numbered(session, kind, number)
    else:
        closure = get_closure(session, kind, period)
    if closure is None:
        raise InvalidInput(f"Aucune clôture pour la période {period}.")
    copy = None
    if duplicate:
        copy = record_duplicate(session, kind, closure.number, operator=operator).body["copy"]
    shop = fiscal_settings(session)
    backup = None if duplicate else backup_line(session)
    pdf = render_closure_pdf(
        closure, shop, training=ledger.kind == "training", timezone=ledger.timezone, backup=backup
    )
    name = document_number(kind, closure.number)
    suffix = f"-duplicata-{copy}" if copy else ""
    path = documents_dir(ledger, "clotures") / f"{name}-{period}{suffix}.pdf"
    write_private_bytes(path, pdf)
    text = closure_text(
        closure, shop, ledger.timezone, training=is_training(session), backup=backup
    )
    if copy:
        text = f"DUPLICATA n°{copy}\n{text}"
    printed, printer = _send_to_printer(session, text)
    log_event(
        session, EventCode.PRINT, operator=operator, document=name, copy=copy, printer=printer
    )
    return Output(path, printed, copy)


def output_x_report(session: Session, *, operator: str) -> Output:
    """Running totals since the last day closure; traced, not a closure."""
    ledger = ledger_of(session)
    totals = x_report(session)
    when = ledger.clock()
    pdf = render_x_report_pdf(
        totals,
        fiscal_settings(session),
        when,
        training=ledger.kind == "training",
        timezone=ledger.timezone,
    )
    local = when.astimezone(ZoneInfo(ledger.timezone)).strftime("%Y%m%d-%H%M%S")
    path = documents_dir(ledger, "rapports-x") / f"X-{local}.pdf"
    write_private_bytes(path, pdf)
    text = x_report_text(
        totals, fiscal_settings(session), when, ledger.timezone, training=is_training(session)
    )
    printed, printer = _send_to_printer(session, text)
    log_event(session, EventCode.PRINT, operator=operator, document="X", copy=None, printer=printer)
    return Output(path, printed)


def print_test(config: dict[str, Any]) -> None:
    """Print a test page on the printer described by ``config`` (not saved)."""
    if config.get("kind", "none") == "none":
        raise InvalidInput("Aucune imprimante n'est choisie.")
    printer = make_printer(config)
    try:
        print_test_page(printer)
    finally:
        _close(printer)


def open_drawer(session: Session, *, operator: str) -> bool:
    """Open the cash drawer without a sale (journaled)."""
    config = printer_config(session)
    if config["kind"] == "none":
        raise InvalidInput("Aucune imprimante : le tiroir-caisse ne peut pas être commandé.")
    printer = make_printer(config)
    try:
        kick_drawer(printer)
    finally:
        _close(printer)
    log_event(session, EventCode.DRAWER_OPEN, operator=operator, document=None)
    return True
