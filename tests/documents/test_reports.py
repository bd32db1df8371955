"""Z and X reports rendered from real closures and running totals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.documents.reports import closure_title, render_closure_pdf, render_x_report_pdf
from app.documents.watermark import TRAINING_WATERMARK
from app.ledger.closures import Closure, close_day, close_pending, get_closure, x_report
from app.ledger.records import RecordType
from app.ledger.settings import FiscalSettings
from app.sales.payments import PaymentMethod
from app.sales.service import cancel_ticket
from app.values.money import format_cents
from app.values.vat import format_rate
from tests.documents import SHOP, font_problems, pdf_pages, pdf_text, record_shop, rich_sale
from tests.helpers import ring

MONDAY = date(2026, 3, 2)


def _close_monday(ledger, clock, counted: dict[str, int] | None = None) -> Closure:
    clock.advance(hours=10)
    with ledger.transaction() as session:
        close_day(session, MONDAY, operator="Gérant", counted=counted)
    with ledger.reader() as session:
        closure = get_closure(session, RecordType.DAY_CLOSURE, MONDAY.isoformat())
    assert closure is not None
    return closure


@pytest.fixture
def day(ledger, clock) -> Closure:
    record_shop(ledger)
    rich_sale(ledger)
    clock.advance(minutes=5)
    ring(ledger, ("Café à emporter", 180, 2, 1000), method=PaymentMethod.CASH)
    clock.advance(minutes=5)
    with ledger.transaction() as session:
        cancel_ticket(session, 2, operator="Gérant", reason="Erreur")
    return _close_monday(ledger, clock, counted={"cash": 3000, "card": 1000})


def test_z_report_carries_every_mention(day) -> None:
    body = day.body
    text = pdf_text(render_closure_pdf(day, SHOP))
    assert closure_title(day) == "Clôture journalière (Z) n° ZJ000001"
    for mention in (
        "Épicerie du Comptoir",
        "SIRET 12345678200010",
        "Clôture journalière (Z) n° ZJ000001",
        "Journée du 02/03/2026",
        "Clôturée le 02/03/2026 19:10:00 par Gérant",
        f"Enregistrements couverts : n°{body['first_seq']} à n°{body['last_seq']}",
        "Tickets : 3 (dont 1 annulation(s) ou remboursement(s))",
        "Base HT",
        "Carte bancaire",
        "Espèces",
        "Comptage de caisse",
        "Attendu",
        "Compté",
        "-1,87 €",
        "Grand total perpétuel",
        "Grand total perpétuel en valeur absolue",
        format_cents(body["grand_total"]),
        format_cents(body["perpetual_abs_total"]),
        format_cents(body["abs_total"]),
        body["last_hash"],
        day.hash,
    ):
        assert mention in text, mention
    for vat in body["vat"]:
        row = " ".join(
            (format_rate(vat["rate"]), *(format_cents(vat[k]) for k in ("base", "vat", "total")))
        )
        assert row in " ".join(text.split())  # table cells come out one per line
    assert format_cents(body["total_excl"]) in text
    assert format_cents(body["total"]) == "41,87 €" and "41,87 €" in text
    assert TRAINING_WATERMARK not in text


def test_z_report_fonts_are_embedded_and_training_is_marked(day) -> None:
    for training in (False, True):
        data = render_closure_pdf(day, SHOP, training=training)
        count, problems = font_problems(data)
        assert count >= 2 and problems == []
        assert (TRAINING_WATERMARK in pdf_text(data)) is training
        assert pdf_pages(data) == [pytest.approx((595.28, 841.89), abs=0.01)]


def test_z_report_without_cash_count(ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 1, 550))
    closure = _close_monday(ledger, clock)
    text = pdf_text(render_closure_pdf(closure, FiscalSettings()))
    assert "Comptage de caisse" not in text
    assert "Tickets : 1 (dont 0" in text
    assert "1,30 €" in text


def test_month_report(ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 10, 550))
    _close_monday(ledger, clock)
    clock.set_local(date(2026, 4, 1))
    with ledger.transaction() as session:
        close_pending(session, operator="Gérant")
    with ledger.reader() as session:
        month = get_closure(session, RecordType.MONTH_CLOSURE, "2026-03")
    assert month is not None
    text = pdf_text(render_closure_pdf(month, SHOP))
    assert "Clôture mensuelle (Z) n° ZM000001" in text
    assert "Mois de mars 2026" in text
    assert "Clôtures incluses : 1" in text
    assert "13,00 €" in text and month.hash in text


def test_x_report_shows_running_totals(ledger, clock) -> None:
    record_shop(ledger)
    rich_sale(ledger)
    with ledger.reader() as session:
        totals = x_report(session)
    when = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
    data = render_x_report_pdf(totals, SHOP, when)
    text = pdf_text(data)
    assert "Rapport X — totaux en cours, sans clôture" in text
    assert "Édité le 02/03/2026 à 16:30:05" in text
    assert "Tickets : 1 (dont 0" in text
    assert format_cents(totals.total) in text and format_cents(totals.total_vat) in text
    assert "Clôture journalière" not in text
    count, problems = font_problems(data)
    assert count >= 2 and problems == []
    assert TRAINING_WATERMARK in pdf_text(render_x_report_pdf(totals, SHOP, when, training=True))


def test_shop_names_with_markup_characters_are_printed_as_typed(ledger, clock) -> None:
    ring(ledger)
    closure = _close_monday(ledger, clock)
    shop = FiscalSettings(name="Dupont & Fils <Primeurs>", siret="73282932000074")
    assert "Dupont & Fils <Primeurs>" in pdf_text(render_closure_pdf(closure, shop))
