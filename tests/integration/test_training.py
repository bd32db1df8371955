"""Mode formation end to end: the training ledger beside the real one, what it records,
what it produces, and that the real ledger never moves (BOFiP §150)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import func, select

from app import config
from app.catalog.service import all_products, load_demo_catalog
from app.cli import main
from app.customers.service import CustomerInfo, save_customer, search_customers
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.documents.preferences import save_printer_config
from app.documents.printing import output_closure, output_receipt, output_x_report
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.inbox import sync_once
from app.einvoice.pdp.models import QUEUED, OutboxItem
from app.einvoice.pdp.outbox_status import pending_count
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.training import TrainingNotSent, is_loopback_url, is_sandbox
from app.einvoice.service import issue_and_store
from app.einvoice.validate import validate_invoice
from app.errors import LedgerMismatch
from app.ledger import canonical
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.operators import Role
from app.ledger.settings import fiscal_settings, record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.training import TRAINING_NOTICE
from app.staff.service import add_operator, attempt_login
from app.training import (
    ensure_training_ledger,
    enter_training,
    leave_training,
    open_training_ledger,
)
from tests.conftest import PARIS
from tests.helpers import ring

XML_NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
}
REMOTE = {
    "COMPTOIR_PDP_URL": "https://pdp.example.com/flow",
    "COMPTOIR_PDP_TOKEN_URL": "https://pdp.example.com/token",
    "COMPTOIR_PDP_CLIENT_ID": "comptoir",
    "COMPTOIR_PDP_CLIENT_SECRET": "secret",
}


# -- fixtures and probes --------------------------------------------------------------
@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A real shop with its identity, two operators, the catalog and one sale."""
    path = tmp_path / "shop.sqlite"
    with Ledger.open(path) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Camille")
            add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
            add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
            load_demo_catalog(session, operator="Camille")
        ring(ledger, operator="Yanis")
    return path


def fingerprint(path: Path) -> str:
    """The bytes of the ledger file (the WAL is folded back into it on close)."""
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    return hashlib.sha256(path.read_bytes()).hexdigest()


def envelopes(ledger: Ledger) -> list[dict]:
    with ledger.reader() as session:
        rows = session.scalars(select(JournalRecord.canonical).order_by(JournalRecord.seq))
        return [canonical.decode(row) for row in rows]


def real_records(path: Path) -> list[dict]:
    with Ledger.open(path, readonly=True) as ledger:
        return envelopes(ledger)


def shop_today() -> date:
    return datetime.now(PARIS).date()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def issue(ledger: Ledger, operator: str = "Yanis"):  # type: ignore[no-untyped-def]
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Farine T65 (sac 25 kg)", Decimal(2), 2150, 550)
        return issue_and_store(session, InvoiceDraft(buyer, (line,)), operator=operator)


def xml_notes(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    xml = reader.attachments["factur-x.xml"][0]
    root = etree.fromstring(xml)
    return [n.text for n in root.iterfind(".//ram:IncludedNote/ram:Content", XML_NS)]


# -- the command line ----------------------------------------------------------------
def test_command_line_training_writes_nothing_into_the_real_ledger(
    real: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    before = fingerprint(real)
    before_records = real_records(real)

    assert main(["--db", str(real), "--training", "--supervisor", "Camille", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Journal de FORMATION vérifié (shop.formation.sqlite)")
    training_path = config.training_path(real)
    assert training_path.exists()

    # Sales and an invoice by a trainee, then the day closed from the command line.
    with Ledger.open(training_path, kind="training", supervisor="Camille") as training:
        ring(training, ("Vin rouge AOP 75 cl", 1150, 2, 2000), operator="Yanis")
        invoice = issue(training)
        assert TRAINING_NOTICE in pdf_text(invoice.pdf.read_bytes())
    today = shop_today().isoformat()
    args = ["--db", str(real), "--training", "--supervisor", "Camille"]
    monkeypatch.setenv("COMPTOIR_PIN", "5678")  # Yanis's, as in the real shop
    assert main([*args, "close", "--day", today, "--operator", "Yanis"]) == 0
    z_text = capsys.readouterr().out
    assert z_text.splitlines()[0].strip() == TRAINING_NOTICE
    exported = tmp_path / "export.pdf"
    assert main([*args, "invoice", "export", invoice.doc_number, "--out", str(exported)]) == 0
    pdf = exported.read_bytes()
    assert TRAINING_NOTICE in pdf_text(pdf)
    assert TRAINING_NOTICE in xml_notes(pdf)
    assert validate_invoice(pdf, filename=exported.name).ok

    # The real ledger: same bytes, so same records, numbering, last hash and totals.
    assert fingerprint(real) == before
    assert real_records(real) == before_records

    # Every training record names the manager; a real record never has the key.
    with Ledger.open(training_path, kind="training", readonly=True) as training:
        records = envelopes(training)
    assert all(r["supervisor"] == "Camille" for r in records)
    assert {r["operator"] for r in records if r["type"] == "TICKET"} == {"Yanis"}
    assert not any("supervisor" in r for r in before_records)
    closure = next(r for r in records if r["type"] == "DAY_CLOSURE")
    assert closure["body"]["perpetual_total"] == 2300  # the training sales only


def test_training_ledger_is_created_with_the_shop_and_its_people(real: Path) -> None:
    before = fingerprint(real)
    path = ensure_training_ledger(real, supervisor="Camille")
    assert path == real.with_name("shop.formation.sqlite")
    assert fingerprint(real) == before
    with Ledger.open(real, readonly=True) as ledger:
        real_id = ledger.ledger_id
    with Ledger.open(path, kind="training") as training:
        assert training.ledger_id != real_id
        assert training.signer_key_id not in {r["key"] for r in real_records(real)}
        with training.transaction() as session:
            assert fiscal_settings(session).siret == DEMO_SHOP.siret
            assert attempt_login(session, "Yanis", "5678").operator is not None
        with training.reader() as session:
            assert len(all_products(session)) >= 20
            assert search_customers(session) == []  # no real customer in training


def test_training_closure_never_touches_the_real_perpetual_total(real: Path) -> None:
    with Ledger.open(real) as ledger, ledger.transaction() as session:
        real_z = close_day(session, shop_today(), operator="Camille")
    real_perpetual = real_z.body["perpetual_total"]
    path = ensure_training_ledger(real, supervisor="Camille")
    with Ledger.open(path, kind="training", supervisor="Camille") as training:
        ring(training, ("Baguette", 130, 10, 550), operator="Yanis")
        with training.transaction() as session:
            training_z = close_day(session, shop_today(), operator="Camille")
    assert training_z.body["perpetual_total"] == 1300
    with Ledger.open(real, readonly=True) as ledger:
        closures = [r for r in envelopes(ledger) if r["type"] == "DAY_CLOSURE"]
    assert [c["body"]["perpetual_total"] for c in closures] == [real_perpetual]


def test_every_document_of_a_training_ledger_is_watermarked(real: Path, tmp_path: Path) -> None:
    printer = tmp_path / "printer.bin"

    def printed() -> str:  # what the receipt printer got for the last document
        return printer.read_bytes().decode("cp858", errors="replace")

    path = ensure_training_ledger(real, supervisor="Camille")
    with Ledger.open(path, kind="training", supervisor="Camille") as training:
        with training.transaction() as session:
            save_printer_config(session, {"kind": "file", "path": str(printer)}, operator="Camille")
        sale = ring(training, operator="Yanis")
        outputs, paper = [], []
        with training.transaction() as session:
            outputs.append(output_receipt(session, sale.number, operator="Yanis"))
            paper.append(printed())
            outputs.append(output_x_report(session, operator="Yanis"))
            paper.append(printed())
            z = close_day(session, shop_today(), operator="Camille")
        with training.transaction() as session:
            outputs.append(
                output_closure(session, z.record_type, z.body["period"], operator="Camille")
            )
            paper.append(printed())
    for output in outputs:
        text = pdf_text(output.pdf.read_bytes())
        assert text.count(TRAINING_NOTICE) >= 2, output.pdf.name  # banner and watermark
    for text in paper:  # at the top and at the bottom of the paper
        assert text.count("FORMATION") == 2
        assert text.index("FORMATION") < text.index("picerie du Comptoir")
        last_row = max(text.rfind("Signature"), text.rfind("=" * 48))
        assert text.rindex("FORMATION") > last_row > 0


# -- the wrong way round ---------------------------------------------------------------
def test_files_opened_the_wrong_way_round_are_refused(real: Path, capsys) -> None:
    training = ensure_training_ledger(real, supervisor="Camille")
    today = shop_today().isoformat()
    # The training file given as the real ledger.
    assert main(["--db", str(training), "close", "--day", today]) == 2
    assert "journal de formation ; il ne peut pas être ouvert comme journal réel" in (
        capsys.readouterr().err
    )
    with pytest.raises(LedgerMismatch, match="passez en mode formation"):
        Ledger.open(training)
    # The real ledger opened as a training one.
    with pytest.raises(LedgerMismatch, match="journal réel ; il ne peut pas être ouvert"):
        Ledger.open(real, kind="training")
    # --training on a file that is already a training ledger.
    assert main(["--db", str(training), "--training", "verify"]) == 2
    assert "déjà un journal de formation" in capsys.readouterr().err


def test_training_sibling_that_is_a_real_ledger_is_refused(tmp_path: Path, capsys) -> None:
    shop = tmp_path / "shop.sqlite"
    Ledger.open(shop).close()
    impostor = config.training_path(shop)
    Ledger.open(impostor).close()  # a real ledger sitting where the training one goes
    before = fingerprint(impostor), fingerprint(shop)
    assert main(["--db", str(shop), "--training", "verify"]) == 2
    err = capsys.readouterr().err
    assert "devrait être le journal de formation de shop.sqlite" in err
    assert "c'est un journal réel" in err
    assert main(["--db", str(shop), "--training", "close", "--day", "2026-03-02"]) == 2
    capsys.readouterr()
    assert (fingerprint(impostor), fingerprint(shop)) == before


# -- the GUI's switch, at service level ------------------------------------------------------
def test_switching_journals_the_switch_in_both_ledgers_only(real: Path) -> None:
    ledger = Ledger.open(real)
    before = envelopes(ledger)
    training = enter_training(ledger, operator="Yanis", supervisor="Camille")
    assert training.kind == "training" and training.supervisor == "Camille"
    ring(training, operator="Yanis")
    back = leave_training(training, operator="Yanis", authorised_by="Camille")
    after = envelopes(back)
    back.close()
    added = after[len(before) :]
    assert after[: len(before)] == before
    assert [(r["type"], r["body"]["code"]) for r in added] == [
        ("EVENT", "TRAINING_ON"),
        ("EVENT", "TRAINING_OFF"),
    ]
    assert added[0]["body"]["detail"]["supervisor"] == "Camille"
    with Ledger.open(config.training_path(real), kind="training", readonly=True) as t:
        codes = [r["body"].get("code") for r in envelopes(t) if r["type"] == "EVENT"]
    assert codes == ["LEDGER_CREATED", "TRAINING_ON", "TRAINING_OFF"]


def test_switch_into_a_sibling_that_is_real_leaves_the_real_ledger_open(real: Path) -> None:
    Ledger.open(config.training_path(real)).close()
    ledger = Ledger.open(real)
    count = len(envelopes(ledger))
    with pytest.raises(LedgerMismatch):
        enter_training(ledger, operator="Yanis", supervisor="Camille")
    ring(ledger, operator="Yanis")  # still open and writable
    assert len(envelopes(ledger)) == count + 1
    ledger.close()


# -- the connector -----------------------------------------------------------------------
def test_loopback_is_the_only_sandbox() -> None:
    assert is_loopback_url("http://127.0.0.1:8765/v1")
    assert is_loopback_url("http://localhost/token")
    assert is_loopback_url("http://[::1]:8000/")
    assert not is_loopback_url("https://pdp.example.com/")
    assert not is_loopback_url("http://127.0.0.1.example.com/")
    remote = HttpFlowClient(
        PlatformSettings("https://pdp.example.com", "http://127.0.0.1/t", "a", "b")
    )
    assert not is_sandbox(remote)  # both addresses must be local


def test_training_invoice_goes_to_the_sandbox_only(real: Path, monkeypatch, capsys) -> None:
    path = ensure_training_ledger(real, supervisor="Camille")
    with Ledger.open(path, kind="training", supervisor="Camille") as training:
        issue(training)
        with training.reader() as session:
            assert pending_count(session) == 1
        # A real platform: refused before anything is claimed, sent or fetched.
        remote = HttpFlowClient(
            PlatformSettings(REMOTE["COMPTOIR_PDP_URL"], REMOTE["COMPTOIR_PDP_TOKEN_URL"], "a", "b")
        )
        with pytest.raises(TrainingNotSent, match="jamais envoyées à une plateforme réelle"):
            drain_once(training, remote)
        with pytest.raises(TrainingNotSent):
            sync_once(training, remote)
        with training.reader() as session:
            item = session.scalar(select(OutboxItem))
            assert (item.state, item.attempts) == (QUEUED, 0)

    for name, value in REMOTE.items():
        monkeypatch.setenv(name, value)
    args = ["--db", str(real), "--training", "pdp", "push"]
    assert main(args) == 2
    assert "Mode formation" in capsys.readouterr().err

    with SandboxPlatform(lifecycle_step=0.01) as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        assert main(args) == 0
        assert "Envoyées : 1" in capsys.readouterr().out
        assert len(sandbox.deposits) == 1


def test_the_guard_leaves_the_real_ledger_alone(real: Path) -> None:
    remote = HttpFlowClient(
        PlatformSettings(REMOTE["COMPTOIR_PDP_URL"], REMOTE["COMPTOIR_PDP_TOKEN_URL"], "a", "b")
    )
    with Ledger.open(real) as ledger:
        assert drain_once(ledger, remote).sent == 0  # nothing queued; no refusal


# -- the demo ------------------------------------------------------------------------------
def test_training_demo_fills_a_training_ledger_and_never_replaces_it(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["--db", str(db), "--training", "demo", "--days", "1", "--quiet"]) == 0
    assert "Journal de FORMATION" in capsys.readouterr().out
    path = config.training_path(db)
    with Ledger.open(path, kind="training", readonly=True) as training:
        with training.reader() as session:
            tickets = session.scalar(
                select(func.count()).where(JournalRecord.record_type == "TICKET")
            )
        assert tickets > 0
    assert main(["--db", str(db), "--training", "demo", "--days", "1", "--quiet"]) == 2
    assert "ne remplace jamais un journal de formation" in capsys.readouterr().err


def test_operators_follow_the_real_shop_at_every_entry(real: Path) -> None:
    path = ensure_training_ledger(real, supervisor="Camille")
    with Ledger.open(real) as ledger, ledger.transaction() as session:
        add_operator(session, "Léa", Role.CASHIER, "2468", operator="Camille")
    with open_training_ledger(real, supervisor="Camille") as training:
        assert training.path == path
        with training.transaction() as session:
            assert attempt_login(session, "Léa", "2468").operator is not None
