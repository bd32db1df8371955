"""Receipts rendered from real ledger records: every mention, embedded fonts, widths."""

from __future__ import annotations

import re
from datetime import date

import pytest
from reportlab.lib.units import mm

from app.documents.receipt import (
    format_quantity,
    receipt_text,
    render_receipt_pdf,
    shop_time,
    signature_excerpt,
)
from app.documents.watermark import TRAINING_WATERMARK
from app.errors import InvalidInput
from app.ledger.settings import FiscalSettings
from app.sales.service import Ticket, cancel_ticket, get_ticket, refund_lines
from app.values.money import format_cents
from tests.documents import SHOP, font_problems, pdf_pages, pdf_text, record_shop, rich_sale
from tests.helpers import ring


@pytest.fixture
def sale(ledger) -> tuple[Ticket, str]:
    record_shop(ledger)
    recorded = rich_sale(ledger)
    with ledger.reader() as session:
        return get_ticket(session, recorded.number), recorded.signature_excerpt


def test_pdf_receipt_carries_every_mention(sale) -> None:
    ticket, excerpt = sale
    body = ticket.body
    text = pdf_text(
        render_receipt_pdf(ticket, SHOP, header="Bienvenue !", footer="Merci, à bientôt")
    )
    for mention in (
        "Bienvenue !",
        "Épicerie du Comptoir",
        "SARL au capital de 10",
        "12 rue des Halles",
        "69001 Lyon",
        "SIRET 12345678200010",
        "TVA intracom. FR11123456782",
        "Ticket T000001",
        "Caisse CAISSE-1",
        "Le 02/03/2026 09:00:00",
        "Opérateur : Alice",
        "Baguette tradition",
        "2 x 1,30 €",
        "Comté 18 mois",
        "0,347 kg x 28,90 €/kg",
        "Œufs plein air x6",
        "Remise",
        "-0,96 €",
        "Remise sur le ticket",
        "-1,00 €",
        "20 %",
        "10 %",
        "5,5 %",
        "2,1 %",
        "TOTAL TTC",
        format_cents(body["total"]),
        format_cents(body["total_excl"]),
        format_cents(body["total_vat"]),
        "Carte bancaire",
        "10,00 €",
        "Espèces remises",
        "50,00 €",
        "Monnaie rendue",
        format_cents(body["change"]),
        f"Signature {excerpt}",
        "Merci, à bientôt",
    ):
        assert mention in text, mention
    assert body["total"] == 4187 and body["change"] == 1813
    for vat in body["vat"]:
        assert format_cents(vat["base"]) in text and format_cents(vat["vat"]) in text
    assert "DUPLICATA" not in text and "FORMATION" not in text


def test_signature_excerpt_matches_the_recorded_one(sale) -> None:
    ticket, excerpt = sale
    assert signature_excerpt(ticket.signature) == excerpt
    assert len(excerpt) == 12 and excerpt.isalnum()


def test_duplicate_and_training_watermark(sale) -> None:
    ticket, _ = sale
    data = render_receipt_pdf(ticket, SHOP, width_mm=58, duplicate=2, training=True)
    text = pdf_text(data)
    assert "DUPLICATA n°2" in text
    assert TRAINING_WATERMARK in text
    # Banner at the top and bottom, and the diagonal watermark behind.
    assert text.count("FORMATION") >= 3


@pytest.mark.parametrize("width_mm", [80, 58])
def test_page_is_as_wide_as_the_roll_and_as_tall_as_the_content(ledger, width_mm) -> None:
    short = ring(ledger, ("Pain", 130, 1, 550))
    long = ring(ledger, *[(f"Article {i}", 100 + i, 1, 2000) for i in range(30)])
    with ledger.reader() as session:
        pages = [
            pdf_pages(render_receipt_pdf(get_ticket(session, r.number), SHOP, width_mm=width_mm))
            for r in (short, long)
        ]
    (short_w, short_h), (long_w, long_h) = pages[0][0], pages[1][0]
    assert len(pages[0]) == len(pages[1]) == 1
    assert short_w == long_w == pytest.approx(width_mm * mm, abs=0.01)
    assert short_h > short_w
    assert long_h > short_h + 30 * 8


@pytest.mark.parametrize("options", [{}, {"width_mm": 58}, {"training": True, "duplicate": 1}])
def test_every_font_is_embedded_and_none_is_standard(sale, options) -> None:
    ticket, _ = sale
    count, problems = font_problems(render_receipt_pdf(ticket, SHOP, **options))
    assert count >= 2
    assert problems == []


def test_cancellation_and_refund_headings(ledger, sale) -> None:
    ticket, _ = sale
    with ledger.transaction() as session:
        cancelled = cancel_ticket(session, 1, operator="Gérant", reason="Erreur de caisse")
    other = ring(ledger, ("Pain", 130, 3, 550))
    with ledger.transaction() as session:
        refund = refund_lines(
            session, other.number, [(0, 1)], operator="Gérant", reason="Pain rassis"
        )
    with ledger.reader() as session:
        cancel_text = pdf_text(render_receipt_pdf(get_ticket(session, cancelled.number), SHOP))
        refund_text = pdf_text(render_receipt_pdf(get_ticket(session, refund.number), SHOP))
    assert "ANNULATION du ticket T000001" in cancel_text
    assert "Motif : Erreur de caisse" in cancel_text
    assert format_cents(-ticket.total_cents) in cancel_text
    assert "Remboursé" in cancel_text
    assert f"REMBOURSEMENT du ticket {other.doc_number}" in refund_text
    assert "Motif : Pain rassis" in refund_text
    assert "-1,30 €" in refund_text


@pytest.mark.parametrize("width", [48, 32])
def test_text_receipt_fits_the_paper_and_says_the_same(sale, width) -> None:
    ticket, excerpt = sale
    text = receipt_text(ticket, SHOP, width, duplicate=3, training=True, footer="Merci")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    for mention in (
        "SIRET 12345678200010",
        "Ticket T000001",
        "Le 02/03/2026 09:00:00",
        "Opérateur : Alice",
        "DUPLICATA n°3",
        "0,347 kg x 28,90 €/kg",
        "TOTAL TTC",
        "41,87 €",
        "Monnaie rendue",
        "18,13 €",
        f"Signature {excerpt}",
        "Merci",
        TRAINING_WATERMARK,
    ):
        assert mention in text, mention


def test_wide_text_keeps_amounts_in_one_column(sale) -> None:
    ticket, _ = sale
    lines = receipt_text(ticket, SHOP, 48).splitlines()
    amounts = [line for line in lines if re.search(r"\S {2,}-?[\d\u202f]+,\d\d €$", line)]
    assert len(amounts) > 10
    assert all(len(line) == 48 for line in amounts)


def test_identity_is_printed_only_when_known(ledger) -> None:
    ring(ledger)
    shop = FiscalSettings(
        name="Chez Léon & Fils <bio>", siret="73282932000074", vat_regime="franchise"
    )
    with ledger.reader() as session:
        text = pdf_text(render_receipt_pdf(get_ticket(session, 1), shop))
    assert "Chez Léon & Fils <bio>" in text
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert "TVA intracom." not in text and "Tél." not in text


def test_shop_time_and_quantities() -> None:
    assert shop_time("2026-07-14T21:05:09.123456Z") == "14/07/2026 23:05:09"
    assert shop_time("2026-07-14T21:05:09.123456Z", "America/Martinique") == "14/07/2026 17:05:09"
    assert format_quantity("0.347", True) == "0,347 kg"
    assert format_quantity("2", True) == "2,000 kg"
    assert format_quantity("-2", False) == "-2"
    assert format_quantity("10", False) == "10"


def test_bad_widths_are_refused(sale) -> None:
    ticket, _ = sale
    with pytest.raises(InvalidInput):
        render_receipt_pdf(ticket, SHOP, width_mm=20)
    with pytest.raises(InvalidInput):
        receipt_text(ticket, SHOP, 10)


def test_ticket_of_another_day_shows_its_own_date(ledger, clock) -> None:
    clock.set_local(date(2026, 3, 2))
    clock.advance(hours=8, minutes=59, seconds=59)
    ring(ledger)
    with ledger.reader() as session:
        text = receipt_text(get_ticket(session, 1), SHOP)
    assert "Le 02/03/2026 17:59:59" in text
