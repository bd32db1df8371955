"""Builders and PDF probes shared by the document tests."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from app.demo import DEMO_SHOP
from app.ledger.journal import Recorded
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine, Discount
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale

SHOP = DEMO_SHOP
STANDARD_14 = {
    "Courier",
    "Courier-Bold",
    "Courier-Oblique",
    "Courier-BoldOblique",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Times-BoldItalic",
    "Symbol",
    "ZapfDingbats",
}


def record_shop(ledger: Ledger) -> None:
    with ledger.transaction() as session:
        record_fiscal_settings(session, SHOP, operator="Gérant")


def rich_sale(ledger: Ledger, operator: str = "Alice") -> Recorded:
    """Four VAT rates, a weighed item, a line discount, a ticket discount, card + cash
    with change: 41,87 € paid 10,00 € by card and 50,00 € in cash."""
    cart = Cart()
    cart.add(CartLine("Baguette tradition", 130, Decimal(2), 550))
    cart.add(CartLine("Comté 18 mois", 2890, Decimal("0.347"), 550, weighed=True))
    cart.add(CartLine("Œufs plein air x6", 310, Decimal(1), 550))
    cart.add(
        CartLine("Chocolat noir 70 %", 320, Decimal(3), 2000, discount=Discount.percent_of(10))
    )
    cart.add(CartLine("Sandwich jambon-beurre", 550, Decimal(1), 1000))
    cart.add(CartLine("Quotidien régional", 150, Decimal(1), 210))
    cart.add(CartLine("Vin rouge AOP 75 cl", 1150, Decimal(1), 2000))
    cart.ticket_discount = Discount.amount(100)
    payments = [Payment(PaymentMethod.CARD, 1000), Payment(PaymentMethod.CASH, 5000)]
    with ledger.transaction() as session:
        return record_sale(session, cart, payments, operator)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """(width, height) of every page, in points."""
    reader = PdfReader(BytesIO(data))
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


def _embedded(font: DictionaryObject) -> bool:
    if font.get("/Subtype") == "/Type0":
        return all(_embedded(d.get_object()) for d in font["/DescendantFonts"])
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(key in descriptor for key in ("/FontFile2", "/FontFile3", "/FontFile"))


def font_problems(data: bytes) -> tuple[int, list[str]]:
    """How many fonts the pages use, and what is wrong with them (not embedded, standard)."""
    reader = PdfReader(BytesIO(data))
    seen: dict[str, DictionaryObject] = {}
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for font in fonts.get_object().values():
            font = font.get_object()
            seen[str(font.get("/BaseFont"))] = font
    problems = []
    for name, font in seen.items():
        base = name.lstrip("/").split("+", 1)[-1]
        if base in STANDARD_14:
            problems.append(f"{name}: standard-14 font")
        if not _embedded(font):
            problems.append(f"{name}: not embedded")
    return len(seen), problems
