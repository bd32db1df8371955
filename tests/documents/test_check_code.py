"""The verification code on paper: as text on the PDF receipt, the invoice and the thermal
printer's receipt, and as a QR code that a reader decodes back to the same code."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from escpos.printer import Dummy

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.documents.escpos import print_receipt
from app.documents.receipt import receipt_print, receipt_text, render_receipt_pdf
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.service import export_pdf, issue_and_store
from app.ledger.verify.receipt import Verdict, check_code, check_receipt
from app.sales.service import get_ticket
from tests.documents import SHOP, pdf_text, record_shop, rich_sale

ZBARIMG = shutil.which("zbarimg")
PDFTOPPM = shutil.which("pdftoppm")
NO_DECODER = (
    "decoding the QR code needs zbarimg (Debian package zbar-tools) and pdftoppm "
    "(poppler-utils); the code's text is checked by the other tests"
)


def _decoded(pdf: bytes, tmp_path: Path, dpi: int) -> list[str]:
    """The QR codes a reader finds on the PDF's first page, rendered at ``dpi``."""
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    (page,) = tmp_path.glob("p*.png")
    found = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return found.stdout.split()


@pytest.fixture
def sale(ledger):
    record_shop(ledger)
    recorded = rich_sale(ledger)
    with ledger.reader() as session:
        ticket = get_ticket(session, recorded.number)
    return ticket, check_code(ledger.ledger_id, ticket.seq, ticket.hash, ticket.signature)


@pytest.mark.parametrize("width_mm", [80, 58])
def test_the_pdf_receipt_shows_the_code_under_the_signature(sale, width_mm: int) -> None:
    ticket, code = sale
    text = pdf_text(render_receipt_pdf(ticket, SHOP, width_mm=width_mm, check=code))
    assert "Code de vérification" in text
    assert code in text.replace("\n", "").replace(" ", "")
    assert text.index("Signature") < text.index("Code de vérification")


@pytest.mark.skipif(not (ZBARIMG and PDFTOPPM), reason=NO_DECODER)
@pytest.mark.parametrize(("width_mm", "dpi"), [(80, 203), (58, 203), (58, 150)])
def test_the_receipts_qr_code_reads_back_as_the_code(
    sale, tmp_path: Path, width_mm: int, dpi: int
) -> None:
    """At a thermal printer's 203 dpi, and lower, on both roll widths."""
    ticket, code = sale
    pdf = render_receipt_pdf(ticket, SHOP, width_mm=width_mm, check=code)
    assert _decoded(pdf, tmp_path, dpi) == [code]


def test_the_text_receipt_and_the_thermal_printer_carry_the_code(sale) -> None:
    ticket, code = sale
    for width in (48, 32):
        lines = receipt_text(ticket, SHOP, width, check=code).splitlines()
        assert max(map(len, lines)) <= width
        start = lines.index("Code de vérification".center(width).rstrip())
        assert "".join(line.strip() for line in lines[start + 1 : start + 3]).startswith(code)
    paper = receipt_print(ticket, SHOP, 48, check=code, footer="Merci, à bientôt")
    assert paper.qr == code
    assert paper.text.rstrip().endswith(code) and "Merci, à bientôt" in paper.after
    printer = Dummy()
    print_receipt(printer, paper.text, qr=paper.qr, after=paper.after)
    sent = printer.output
    qr_image = sent.index(b"\x1dv0")  # GS v 0: the QR code sent as a raster image
    assert sent.index(code.encode()) < qr_image < sent.index("Merci".encode("cp1252"))


def test_without_a_code_nothing_changes(sale) -> None:
    ticket, _code = sale
    assert "Code de vérification" not in receipt_text(ticket, SHOP)
    assert receipt_print(ticket, SHOP).qr is None


@pytest.fixture
def invoice(ledger):
    record_shop(ledger)
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
        line = InvoiceLineInput("Farine T65", Decimal(10), 1250, 550)
        return issue_and_store(session, InvoiceDraft(buyer.id, (line,)), operator="Camille")


def test_an_invoice_carries_its_code_and_the_ledger_confirms_it(ledger, invoice, tmp_path) -> None:
    record = invoice.record
    code = check_code(ledger.ledger_id, record.seq, record.hash, record.signature)
    text = pdf_text(invoice.pdf.read_bytes())
    assert "Code de vérification au journal fiscal du vendeur" in text
    assert code in text.replace("\n", "")
    assert check_receipt(str(ledger.target), code).verdict is Verdict.CONFIRMED
    with ledger.transaction() as session:
        again = export_pdf(session, invoice.doc_number, tmp_path / "copie.pdf")
    assert code in pdf_text(again.read_bytes()).replace("\n", "")


@pytest.mark.skipif(not (ZBARIMG and PDFTOPPM), reason=NO_DECODER)
def test_the_invoices_qr_code_reads_back_as_the_code(ledger, invoice, tmp_path) -> None:
    record = invoice.record
    code = check_code(ledger.ledger_id, record.seq, record.hash, record.signature)
    assert _decoded(invoice.pdf.read_bytes(), tmp_path, 150) == [code]
