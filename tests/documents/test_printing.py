"""Producing receipts and Z reports: PDF beside the ledger, printer bytes, ledger trace."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.demo import DEMO_SHOP
from app.documents.escpos import PrinterError
from app.documents.preferences import save_printer_config
from app.documents.printing import output_closure, output_receipt, output_x_report, print_test
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.sales.payments import PaymentMethod
from tests.helpers import ring


def _last_records(ledger, count: int) -> list[dict]:
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical).order_by(JournalRecord.seq.desc()).limit(count)
        ).all()
    return [canonical.decode(row) for row in reversed(rows)]


@pytest.fixture
def shop_ledger(ledger, tmp_path):
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        save_printer_config(
            session, {"kind": "file", "path": str(tmp_path / "printer.bin")}, operator="Camille"
        )
    return ledger


def test_receipt_goes_to_pdf_printer_and_drawer(shop_ledger, tmp_path) -> None:
    sale = ring(shop_ledger, ("Vin", 1150, 1, 2000), method=PaymentMethod.CASH)
    with shop_ledger.transaction() as session:
        out = output_receipt(session, sale.number, operator="Camille", open_drawer=True)
    assert out.printed and out.pdf.name == "T000001.pdf" and out.pdf.read_bytes()[:4] == b"%PDF"
    sent = (tmp_path / "printer.bin").read_bytes()
    assert "Épicerie du Comptoir".encode("cp1252") in sent
    assert b"\x1bp" in sent  # drawer kick
    print_event, drawer_event = _last_records(shop_ledger, 2)
    assert print_event["body"]["code"] == "PRINT"
    assert drawer_event["body"]["code"] == "DRAWER_OPEN"


def test_duplicates_are_recorded_and_numbered(shop_ledger) -> None:
    sale = ring(shop_ledger)
    for expected in (1, 2):
        with shop_ledger.transaction() as session:
            out = output_receipt(session, sale.number, operator="Camille", duplicate=True)
        assert out.copy == expected
        assert out.pdf.name == f"T000001-duplicata-{expected}.pdf"
    reprint, _event = _last_records(shop_ledger, 2)
    assert reprint["type"] == "REPRINT" and reprint["body"]["copy"] == 2


def test_a_failing_printer_records_no_duplicate(ledger, tmp_path) -> None:
    sale = ring(ledger)
    with ledger.transaction() as session:
        save_printer_config(
            session, {"kind": "network", "host": "127.0.0.1", "port": 9}, operator="Camille"
        )
    with pytest.raises(PrinterError), ledger.transaction() as session:
        output_receipt(session, sale.number, operator="Camille", duplicate=True)
    with ledger.reader() as session:
        kinds = session.scalars(select(JournalRecord.record_type)).all()
    assert "REPRINT" not in kinds


def test_z_report_and_x_report(shop_ledger, clock, tmp_path) -> None:
    ring(shop_ledger)
    with shop_ledger.transaction() as session:
        out_x = output_x_report(session, operator="Camille")
    sent = (tmp_path / "printer.bin").read_bytes()
    assert "RAPPORT X".encode("cp1252") in sent and b"2,60" in sent
    with shop_ledger.transaction() as session:
        close_day(session, date(2026, 3, 2), operator="Camille")
    with shop_ledger.transaction() as session:
        out_z = output_closure(session, RecordType.DAY_CLOSURE, "2026-03-02", operator="Camille")
    with shop_ledger.transaction() as session:
        again = output_closure(
            session, RecordType.DAY_CLOSURE, "2026-03-02", operator="Camille", duplicate=True
        )
    assert out_x.pdf.exists() and out_z.pdf.name == "ZJ000001-2026-03-02.pdf"
    assert again.copy == 1 and again.printed
    with pytest.raises(InvalidInput), shop_ledger.transaction() as session:
        output_closure(session, RecordType.DAY_CLOSURE, "2026-03-03", operator="Camille")


def test_test_page_needs_a_printer(tmp_path) -> None:
    with pytest.raises(InvalidInput):
        print_test({"kind": "none"})
    print_test({"kind": "file", "path": str(tmp_path / "p.bin")})
    assert (tmp_path / "p.bin").stat().st_size > 0
