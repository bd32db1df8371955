"""The DGFiP e-reporting file (Flux 10, root ``Report``, no namespace), from plain values.

One file carries one report: transactions (10.1 unitary invoices and 10.3 aggregated B2C
sales) or payments (10.2 payments of those unitary invoices, 10.4 aggregated B2C
payments), never both (PPF rule G6.29). Dates are AAAAMMJJ,
amounts euros with two decimals, VAT rates percentages. Nothing here reads the ledger:
``ereporting`` gathers the figures, this module writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree

TRANSACTIONS = "10.3"  # the transactions report: 10.3 aggregates, plus 10.1 invoices
PAYMENTS = "10.4"  # the payments report
FLUXES = {TRANSACTIONS: "transactions", PAYMENTS: "paiements"}
PROFILE = "urn.cpro.gouv.fr:1p0:ereporting"


@dataclass(frozen=True)
class RateAmounts:
    rate_bp: int
    base_cents: int
    vat_cents: int


@dataclass(frozen=True)
class DayCategory:
    """10.3: the B2C sales of one day in one category (TLB1, TPS1, TNT1, TMA1)."""

    day: date
    category: str
    transactions: int
    rates: tuple[RateAmounts, ...]


@dataclass(frozen=True)
class DayPayments:
    """10.4: what was received on one day for services whose VAT is due on payment."""

    day: date
    amounts: tuple[tuple[int, int], ...]  # (rate in basis points, cents received)


@dataclass(frozen=True)
class InvoicePayment:
    """10.2: what was received on one day for one invoice reported unitarily (10.1),
    when its VAT is due on payment."""

    number: str
    issue_date: date
    day: date
    amounts: tuple[tuple[int, int], ...]  # (rate in basis points, cents received)


@dataclass(frozen=True)
class UnitaryInvoice:
    """10.1: one invoice the e-invoicing network does not carry (buyer outside France)."""

    number: str
    issue_date: date
    type_code: str
    business_process: str
    buyer_scheme: str  # 0223 in the EU outside France, 0227 outside the EU
    buyer_id: str
    buyer_vat: str
    buyer_country: str
    preceding: tuple[str, date] | None
    rates: tuple[tuple[str, RateAmounts, str | None, str | None], ...]  # category, amounts,
    # exemption code and reason


@dataclass(frozen=True)
class Party:
    scheme: str
    identifier: str
    name: str
    role: str


@dataclass(frozen=True)
class Header:
    report_id: str
    type_code: str  # IN (initial) or RE (replaces the period)
    issued_at: datetime
    sender: Party  # the platform (0238, role WK)
    issuer: Party  # the shop (SIREN 0002, role SE)
    seller_vat: str
    seller_country: str


def write(
    header: Header,
    flux: str,
    start: date,
    end: date,
    *,
    days: tuple[DayCategory, ...] = (),
    payments: tuple[DayPayments, ...] = (),
    invoices: tuple[UnitaryInvoice, ...] = (),
    invoice_payments: tuple[InvoicePayment, ...] = (),
) -> bytes:
    root = etree.Element("Report")
    _header(root, header)
    report = etree.SubElement(
        root, "TransactionsReport" if flux == TRANSACTIONS else "PaymentsReport"
    )
    period = etree.SubElement(report, "ReportPeriod")
    _text(period, "StartDate", _day(start))
    _text(period, "EndDate", _day(end))
    if flux == TRANSACTIONS:
        for invoice in invoices:
            _invoice(report, invoice, header)
        for block in days:
            _transactions(report, block)
    else:
        for received in invoice_payments:  # the schema puts the invoices first
            _invoice_payment(report, received)
        for paid in payments:
            _payments(report, paid)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _day(day: date) -> str:
    return f"{day:%Y%m%d}"


def _text(parent: Any, name: str, text: str, **attributes: str) -> Any:
    element = etree.SubElement(parent, name, attributes)
    element.text = text
    return element


def _header(root: Any, header: Header) -> None:
    document = etree.SubElement(root, "ReportDocument")
    _text(document, "Id", header.report_id)
    _text(document, "Name", f"E-reporting {header.report_id}")
    moment = etree.SubElement(document, "IssueDateTime")
    _text(moment, "DateTimeString", f"{header.issued_at:%Y%m%d%H%M%S}")
    _text(document, "TypeCode", header.type_code)
    for tag, party in (("Sender", header.sender), ("Issuer", header.issuer)):
        block = etree.SubElement(document, tag)
        _text(block, "Id", party.identifier, schemeId=party.scheme)
        _text(block, "Name", party.name)
        _text(block, "RoleCode", party.role)


def _transactions(report: Any, block: DayCategory) -> None:
    element = etree.SubElement(report, "Transactions")
    _text(element, "Date", _day(block.day))
    _text(element, "TransactionsCurrency", "EUR")
    _text(element, "CategoryCode", block.category)
    _text(element, "TaxExclusiveAmount", euros(sum(r.base_cents for r in block.rates)))
    _text(element, "TaxTotal", euros(sum(r.vat_cents for r in block.rates)))
    _text(element, "TransactionsCount", str(block.transactions))
    for rate in block.rates:
        subtotal = etree.SubElement(element, "TaxSubtotal")
        _text(subtotal, "TaxPercent", euros(rate.rate_bp))
        _text(subtotal, "TaxableAmount", euros(rate.base_cents))
        _text(subtotal, "TaxTotal", euros(rate.vat_cents))


def _payments(report: Any, paid: DayPayments) -> None:
    payment = etree.SubElement(etree.SubElement(report, "Transactions"), "Payment")
    _text(payment, "Date", _day(paid.day))
    for rate_bp, cents in paid.amounts:
        subtotal = etree.SubElement(payment, "SubTotals")
        _text(subtotal, "TaxPercent", euros(rate_bp))
        _text(subtotal, "CurrencyCode", "EUR")
        _text(subtotal, "Amount", euros(cents))


def _invoice_payment(report: Any, received: InvoicePayment) -> None:
    element = etree.SubElement(report, "Invoice")
    _text(element, "InvoiceID", received.number)
    _text(element, "IssueDate", _day(received.issue_date))
    payment = etree.SubElement(element, "Payment")
    _text(payment, "Date", _day(received.day))
    for rate_bp, cents in received.amounts:
        subtotal = etree.SubElement(payment, "SubTotals")
        _text(subtotal, "TaxPercent", euros(rate_bp))
        _text(subtotal, "CurrencyCode", "EUR")
        _text(subtotal, "Amount", euros(cents))


def _invoice(report: Any, invoice: UnitaryInvoice, header: Header) -> None:
    element = etree.SubElement(report, "Invoice")
    _text(element, "ID", invoice.number)
    _text(element, "IssueDate", _day(invoice.issue_date))
    _text(element, "TypeCode", invoice.type_code)
    _text(element, "CurrencyCode", "EUR")
    process = etree.SubElement(element, "BusinessProcess")
    _text(process, "ID", invoice.business_process)
    _text(process, "TypeID", PROFILE)
    if invoice.preceding is not None:
        preceding = etree.SubElement(element, "ReferencedDocument")
        _text(preceding, "ID", invoice.preceding[0])
        _text(preceding, "IssueDate", _day(invoice.preceding[1]))
    seller = etree.SubElement(element, "Seller")
    _text(seller, "CompanyId", header.issuer.identifier, schemeId="0002")
    if header.seller_vat:
        _text(seller, "TaxRegistrationId", header.seller_vat, qualifyingId="VAT")
    _text(etree.SubElement(seller, "PostalAddress"), "CountryId", header.seller_country)
    buyer = etree.SubElement(element, "Buyer")
    if invoice.buyer_id:
        _text(buyer, "CompanyId", invoice.buyer_id, schemeId=invoice.buyer_scheme)
    if invoice.buyer_vat:
        _text(buyer, "TaxRegistrationId", invoice.buyer_vat, qualifyingId="VAT")
    _text(etree.SubElement(buyer, "PostalAddress"), "CountryId", invoice.buyer_country)
    totals = etree.SubElement(element, "MonetaryTotal")
    _text(totals, "TaxExclusiveAmount", euros(sum(r.base_cents for _, r, _, _ in invoice.rates)))
    vat = euros(sum(r.vat_cents for _, r, _, _ in invoice.rates))
    _text(totals, "TaxAmount", vat, CurrencyCode="EUR")
    for category, rate, code, reason in invoice.rates:
        subtotal = etree.SubElement(element, "TaxSubTotal")
        _text(subtotal, "TaxableAmount", euros(rate.base_cents))
        _text(subtotal, "TaxAmount", euros(rate.vat_cents))
        tax = etree.SubElement(subtotal, "TaxCategory")
        _text(tax, "Code", category)
        _text(tax, "Percent", euros(rate.rate_bp))
        if reason:
            _text(tax, "TaxExemptionReason", reason)
        if code:
            _text(tax, "TaxExemptionReasonCode", code)
