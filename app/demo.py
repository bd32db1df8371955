"""A demo shop: identity, a 30-product catalog, and realistic days of sales with closures."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from app.catalog.service import load_demo_catalog
from app.einvoice.pdp.demo_platform import DemoPlatform, attach, detach
from app.einvoice.pdp.ereporting.periods import period_of
from app.einvoice.pdp.ereporting.report import PREF_MATRICULE, set_platform_matricule
from app.einvoice.pdp.flux10 import FLUXES, TRANSACTIONS
from app.ledger.closures import close_day, close_pending, today
from app.ledger.preferences import get_preference
from app.ledger.records import RecordType
from app.ledger.settings import FiscalSettings, record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine, Discount
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import cancel_ticket, get_ticket, record_sale, refund_lines
from app.sales.terminal.sandbox import TerminalSandbox
from app.sales.terminal.settings import save_terminal_config

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CATALOG = RESOURCES / "demo" / "catalog.csv"
DEMO_SHOP = FiscalSettings(
    name="Épicerie du Comptoir",
    legal_form="SARL au capital de 10 000 €",
    siret="12345678200010",
    vat_number="FR11123456782",
    address="12 rue des Halles",
    postcode="69001",
    city="Lyon",
    phone="04 78 00 00 00",
    registration="RCS Lyon",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP882",
)
OPERATORS = ("Camille", "Yanis", "Léa")
DEMO_MATRICULE = "DEMO"  # the plateforme de démonstration's, in the demo's e-reporting
LIFECYCLE_STEP = 2.0  # seconds between the statuses the demo platform gives an invoice


@dataclass(frozen=True)
class DemoProduct:
    ean: str
    name: str
    category: str
    price_cents: int
    vat_rate_bp: int
    weighed: bool


def demo_catalog() -> list[DemoProduct]:
    with CATALOG.open(encoding="utf-8", newline="") as handle:
        return [
            DemoProduct(
                row["ean"],
                row["name"],
                row["category"],
                int(row["price_cents"]),
                int(row["vat_rate_bp"]),
                row["weighed"] == "1",
            )
            for row in csv.DictReader(handle)
        ]


class SimulatedClock:
    """A clock the demo moves forward by hand, so days pass in a second."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _random_cart(rng: random.Random, catalog: list[DemoProduct]) -> Cart:
    cart = Cart()
    for product in rng.sample(catalog, rng.randint(1, 6)):
        if product.weighed:
            qty = Decimal(rng.randint(150, 1500)) / 1000
        else:
            qty = Decimal(rng.choice((1, 1, 1, 2, 3)))
        discount = Discount.percent_of(Decimal(10)) if rng.random() < 0.05 else None
        cart.add(
            CartLine(
                product.name,
                product.price_cents,
                qty,
                product.vat_rate_bp,
                discount=discount,
                ean=product.ean,
                weighed=product.weighed,
            )
        )
    if rng.random() < 0.04:
        cart.ticket_discount = Discount.percent_of(Decimal(5))
    return cart


def _payments(rng: random.Random, total: int) -> list[Payment]:
    draw = rng.random()
    if draw < 0.45:
        note = next(n for n in (500, 1000, 2000, 5000, 10**9) if n >= total)
        given = total if rng.random() < 0.3 or note == 10**9 else note
        return [Payment(PaymentMethod.CASH, given)]
    if draw < 0.90 or total < 300:
        return [Payment(PaymentMethod.CARD, total)]
    if draw < 0.95:
        cash = min(total - 100, 1000)
        return [Payment(PaymentMethod.CASH, cash), Payment(PaymentMethod.CARD, total - cash)]
    return [Payment(PaymentMethod.CHEQUE, total)]


def run_demo(
    path: Path,
    *,
    days: int,
    seed: int = 2026,
    today: date | None = None,
    on_closure: Callable[[Ledger, RecordType, str], None] | None = None,
    invoices_out: Path | None = None,
    with_invoices: bool = False,
    kind: str = "demo",
    now: datetime | None = None,
) -> Ledger:
    """Create a demo ledger at ``path`` and fill it with ``days`` days ending yesterday (a
    demo ledger's led by one more day when they complete no e-reporting period).

    ``kind="training"`` fills a training ledger instead (``comptoir --training demo``):
    the same shop, every document watermarked, the manager answering for every record.
    ``now``: the moment the demo is made at (the computer's clock by default)."""
    rng = random.Random(seed)
    tz = ZoneInfo("Europe/Paris")
    now = now or datetime.now(UTC)
    today = today or now.astimezone(tz).date()
    first_day = today - timedelta(days=days)
    all_days = [first_day + timedelta(days=offset) for offset in range(days)]
    open_days = [d for d in all_days if d.weekday() != 6] or all_days  # closed on Sundays
    if kind == "demo":  # the demo shop's e-reporting screen has a period to send
        open_days = _with_a_due_period(open_days, today, DEMO_SHOP.vat_regime)
    first_day = open_days[0]
    clock = SimulatedClock(datetime.combine(first_day, time(8, 0), tz).astimezone(UTC))
    supervisor = "Gérant" if kind == "training" else None
    ledger = Ledger.open(
        path,
        kind=kind,
        clock=clock,
        till_id="CAISSE-1",
        operator="Gérant",
        supervisor=supervisor,
    )
    catalog = demo_catalog()
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
    for day in open_days:
        clock.now = datetime.combine(day, time(8, 30), tz).astimezone(UTC)
        _close_pending(ledger, on_closure)
        clock.now = datetime.combine(day, time(9, 0), tz).astimezone(UTC)
        sold: list[int] = []
        for _ in range(rng.randint(25, 60)):
            clock.advance(rng.randint(60, 900))
            operator = rng.choice(OPERATORS)
            cart = _random_cart(rng, catalog)
            total = cart.totals().total_cents
            with ledger.transaction() as session:
                sold.append(record_sale(session, cart, _payments(rng, total), operator).number)
            if rng.random() < 0.03 and len(sold) > 1:
                with ledger.transaction() as session:
                    cancel_ticket(
                        session, sold.pop(-2), operator="Gérant", reason="Erreur de saisie"
                    )
            elif rng.random() < 0.02 and len(sold) > 1:
                with ledger.transaction() as session:
                    number = sold.pop(0)
                    qty = get_ticket(session, number).body["lines"][0]["qty"]
                    refund_lines(
                        session, number, [(0, qty)], operator="Gérant", reason="Article défectueux"
                    )
        if with_invoices and day == open_days[-1]:
            clock.now = datetime.combine(day, time(18, 0), tz).astimezone(UTC)
            demo_invoices(ledger, invoices_out, sold[-1] if sold else None)
        clock.now = datetime.combine(day, time(19, 30), tz).astimezone(UTC)
        with ledger.transaction() as session:
            expected = _expected_cash(session)
            counted = expected + rng.choice((0, 0, 0, 0, -50, 20))
            close_day(session, day, operator="Gérant", counted={"cash": max(counted, 0)})
        if on_closure:
            on_closure(ledger, RecordType.DAY_CLOSURE, day.isoformat())
    # The month and year closures still due are made this morning, but never later than
    # now: made at 08:00 while it is 00:30 (the 1st of a month), they would be dated in the
    # future, and every later record refused for a clock going backwards.
    morning = datetime.combine(today, time(8, 0), tz).astimezone(UTC)
    clock.now = max(clock.now, min(morning, now.astimezone(UTC)))
    _close_pending(ledger, on_closure)
    return ledger


def _with_a_due_period(days: list[date], today: date, regime: str) -> list[date]:
    """The demo's days, led by the last day of the latest e-reporting period ended before
    them when none of them completes one: the e-reporting screen always has a period to send
    (to the plateforme de démonstration)."""
    if any(period_of(regime, flux, day).end < today for day in days for flux in FLUXES):
        return days
    end = period_of(regime, TRANSACTIONS, days[0]).start - timedelta(days=1)
    return [end - timedelta(days=1) if end.weekday() == 6 else end, *days]


def _close_pending(
    ledger: Ledger, on_closure: Callable[[Ledger, RecordType, str], None] | None
) -> None:
    with ledger.transaction() as session:
        done = close_pending(session, operator="Gérant")
    for record in done:
        if on_closure:
            on_closure(ledger, record.record_type, record.body["period"])


def _expected_cash(session) -> int:  # type: ignore[no-untyped-def]
    from app.ledger.closures import x_report

    return x_report(session).payment("cash")


DEMO_CUSTOMERS = (
    dict(
        name="Boulangerie Martin",
        siren="123456782",
        vat_number="FR11123456782",
        address="3 place du Marché",
        postcode="69002",
        city="Lyon",
        delivery_address="Zone artisanale, lot 4",
        delivery_postcode="69100",
        delivery_city="Villeurbanne",
    ),
    dict(
        name="Bakkerij Janssens",
        vat_number="BE0403170701",
        country="BE",
        electronic_address="0208:0403170701",
        address="Grote Markt 1",
        postcode="1000",
        city="Bruxelles",
    ),
)


# More customers to try the forms on: a second company the directory knows, a public
# buyer (invoiced through Chorus Pro by a real shop; the demo's go to its own platform),
# a private customer.
DEMO_MORE_CUSTOMERS = (
    dict(
        name="Restaurant Le Bouchon SAS",
        siren="901873646",
        siret="90187364600011",
        vat_number="FR47901873646",
        email="compta@lebouchon.example",
        address="3 place Bellecour",
        postcode="69002",
        city="Lyon",
    ),
    dict(
        name="Mairie de Villeurbanne (démonstration)",
        siren="216999011",
        siret="21699901100010",
        address="Place Lazare-Goujon",
        postcode="69100",
        city="Villeurbanne",
        public_sector=True,
    ),
    dict(
        kind="person",
        name="Claire Dubois",
        email="claire.dubois@example.org",
        address="41 quai Saint-Vincent",
        postcode="69001",
        city="Lyon",
    ),
)


# A supplier the shop self-bills (Factures › Autofacturation…), under a mandate that
# begins on the day the demo's invoices are made.
DEMO_SUPPLIER = dict(
    reference="MANDAT-DEMO-01",
    prefix="AFMOULIN",
    name="Moulin de la Vallée (démonstration)",
    siret="98765432400019",
    vat_number="FR14987654324",
    address="Route du Moulin",
    postcode="69440",
    city="Mornant",
    iban="FR7630004000010001234567830",
)


def demo_invoices(ledger: Ledger, out: Path | None, sale_number: int | None) -> list[str]:
    """Issue invoices and credit notes covering the usual cases, and a self-billed
    invoice under a supplier's mandate; returns their numbers."""
    from app.customers.service import CustomerInfo, save_customer
    from app.einvoice.invoices import Charge, InvoiceDraft, InvoiceLineInput
    from app.einvoice.issuing import draft_from_ticket
    from app.einvoice.selfbilling.mandates import Mandate, add_mandate
    from app.einvoice.service import credit_and_store, issue_and_store, self_bill_and_store

    def line(label: str, qty: str, price: int, rate: int, **kw: object) -> InvoiceLineInput:
        return InvoiceLineInput(label, Decimal(qty), price, rate, **kw)  # type: ignore[arg-type]

    with ledger.transaction() as session:
        french, belgian = (save_customer(session, CustomerInfo(**c)).id for c in DEMO_CUSTOMERS)
        for more in DEMO_MORE_CUSTOMERS:
            save_customer(session, CustomerInfo(**more))  # type: ignore[arg-type]
    drafts = [
        InvoiceDraft(
            french,
            (
                line("Farine T65 (sac 25 kg)", "4", 2150, 550),
                line("Vin rouge AOP 75 cl", "12", 958, 2000),
            ),
        ),
        InvoiceDraft(
            french,
            (line("Atelier dégustation", "3", 12000, 2000, unit="HUR", nature="services"),),
            vat_on_debits=True,
        ),
        InvoiceDraft(
            french,
            (
                line("Coffret garni", "2", 4500, 550),
                line("Livraison et mise en place", "1", 6000, 2000, nature="services"),
            ),
            document_discount=Discount.percent_of(Decimal(5)),
            charges=(Charge("Frais de port", 1500, 2000),),
        ),
        InvoiceDraft(
            french,
            (
                line(
                    "Formation hygiène alimentaire",
                    "1",
                    45000,
                    0,
                    category="E",
                    nature="services",
                    exemption_code="VATEX-EU-132",
                    exemption_reason="Exonération, article 261-4-4° du CGI",
                ),
            ),
        ),
        InvoiceDraft(
            belgian, (line("Confiture de fraises (carton)", "20", 3800, 0, category="K"),)
        ),
    ]
    issued = []
    with ledger.transaction() as session:
        for draft in drafts:
            issued.append(issue_and_store(session, draft, operator="Gérant"))
        if sale_number is not None:
            issued.append(
                issue_and_store(
                    session, draft_from_ticket(session, sale_number, french), operator="Gérant"
                )
            )
        issued.append(
            credit_and_store(
                session,
                issued[0].doc_number,
                operator="Gérant",
                reason="Deux bouteilles cassées",
                lines=[(1, 2)],
            )
        )
        issued.append(
            credit_and_store(
                session, issued[3].doc_number, operator="Gérant", reason="Formation annulée"
            )
        )
        mandate = add_mandate(
            session, Mandate(start_date=today(session), **DEMO_SUPPLIER), operator="Gérant"
        )
        flour = line("Farine de meule T80 (kg)", "50", 142, 550, unit="KGM")
        issued.append(
            self_bill_and_store(
                session, mandate.reference, InvoiceDraft(0, (flour,)), operator="Gérant"
            )
        )
    if out is not None:
        for document in issued:
            (out / document.pdf.name).write_bytes(document.pdf.read_bytes())
    return [document.doc_number for document in issued]


class DemoServices:
    """What a demo ledger's window runs on 127.0.0.1 while it is open: the plateforme de
    démonstration (invoices, statuses, supplier invoices, e-reporting) and the card terminal
    simulator, set as the till's terminal, over the demo catalog. ``stop`` ends both;
    nothing is left running."""

    def __init__(self, ledger: Ledger, *, lifecycle_step: float | None = None) -> None:
        if ledger.kind != "demo":
            raise ValueError("only a demo ledger runs the demo services")
        self.ledger = ledger
        step = LIFECYCLE_STEP if lifecycle_step is None else lifecycle_step
        self.platform = DemoPlatform(lifecycle_step=step)
        self.terminal = TerminalSandbox(0)

    def start(self, operator: str) -> DemoServices:
        self.platform.start()
        try:
            self.terminal.start()
            attach(self.ledger, self.platform)
            with self.ledger.transaction() as session:
                load_demo_catalog(session, operator=operator)  # the till scans its products
                if not get_preference(session, PREF_MATRICULE):  # the sender of e-reporting
                    set_platform_matricule(session, DEMO_MATRICULE)
                save_terminal_config(
                    session, host="127.0.0.1", port=self.terminal.port, terminal_id="1",
                    till_number="01", operator=operator,
                )  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        detach(self.ledger)
        self.platform.stop()
        self.terminal.stop()

    @property
    def description(self) -> str:
        return (
            f"Boutique de démonstration : {self.platform.label}, terminal de paiement simulé "
            f"({self.terminal.address}) ; rien n'est envoyé à une plateforme réelle."
        )
