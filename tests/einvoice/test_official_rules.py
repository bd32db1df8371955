"""Every invoice and credit note Comptoir emits, held to the official rule files the
application ships (app/einvoice/rules): EN 16931 and BR-FR Flux 2 V1.4.0.03. The files are
part of the package: a missing one fails here, it is never skipped."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

from app.demo import demo_invoices
from app.einvoice import rules
from app.einvoice.facturx import data_dict, invoice_xml
from app.einvoice.issuing import get_document
from app.einvoice.validate import validate_xml_bytes
from app.ledger.settings import record_fiscal_settings
from tests.einvoice import sample_bodies as samples

ROOT = Path(__file__).resolve().parents[2]
ALL_RULESETS = (rules.BR_FR_CII, rules.BR_FR_UBL, rules.BR_FR_CDV, rules.FLUX10_XSD,
                rules.FLUX10_PPF)  # fmt: skip
# The published copies, when this checkout sits beside them (shared/specs/README.md).
SPECS = next(
    (folder for folder in (ROOT.parent / "shared" / "specs", ROOT.parents[1] / "shared" / "specs")
     if folder.is_dir()), None,
)  # fmt: skip


@pytest.mark.parametrize("ruleset", ALL_RULESETS, ids=lambda r: r.path.name)
def test_the_rule_files_are_shipped_and_named(ruleset: rules.RuleSet) -> None:
    assert ruleset.path.is_file(), f"règles officielles absentes : {ruleset.path}"
    assert ruleset.path.name in (rules.FOLDER / "README.md").read_text(encoding="utf-8")


def test_the_rule_files_are_packaged_and_bundled() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"app\.einvoice\.rules" = \[.*"\*/\*\.xsd".*"\*/\*\.xslt"', pyproject)
    spec = (ROOT / "installer" / "comptoir.spec").read_text(encoding="utf-8")
    assert '"app" / "einvoice" / "rules"' in spec


@pytest.mark.skipif(SPECS is None, reason="specs folder not beside this checkout")
def test_the_shipped_copies_are_the_published_files() -> None:
    folders = {"br-fr-1.4.0.03": "fnfe-br-fr-1.4.0.03", "flux10": "dgfip-flux10"}
    for ruleset in ALL_RULESETS:
        published = SPECS / folders[ruleset.path.parent.name] / ruleset.path.name
        assert filecmp.cmp(ruleset.path, published, shallow=False), ruleset.path.name


@pytest.mark.parametrize("name", sorted(samples.SCENARIOS))
def test_every_scenario_passes_br_fr_1_4_0_03(name: str) -> None:
    envelope, body = samples.SCENARIOS[name]()
    report = validate_xml_bytes(invoice_xml(data_dict(envelope, body)))
    assert report.ok, [(f.rule, f.message) for f in report.fatal]
    assert rules.BR_FR_CII.label in report.rules
    assert any("EN 16931" in rule for rule in report.rules)
    assert "V1.4.0.03" in report.rules_line()


def test_the_demo_invoices_and_credit_notes_pass_the_official_rules(ledger, clock) -> None:
    from app.demo import DEMO_SHOP
    from tests.helpers import ring

    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
    ticket = ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
    numbers = demo_invoices(ledger, None, ticket.number)
    assert any(n.startswith("AV") for n in numbers) and any(n.startswith("F") for n in numbers)
    with ledger.reader() as session:
        for number in numbers:
            document = get_document(session, number)
            report = validate_xml_bytes(invoice_xml(data_dict(document.envelope, document.body)))
            assert report.ok, (number, [(f.rule, f.message) for f in report.fatal])
            assert rules.BR_FR_CII.label in report.rules


def test_an_invoice_refused_names_the_rule_and_the_rules_version() -> None:
    from app.einvoice.service import InvoiceRejected
    from app.einvoice.validate import Finding, ValidationReport

    finding = Finding("BR-FR-05", "fatal", "Mention légale obligatoire absente.", None, "br-fr")
    report = ValidationReport("factur-x", "en16931", (finding,), (rules.BR_FR_CII.label,))
    message = InvoiceRejected(report).message
    assert "1 erreur bloquante dans le Factur-X" in message
    assert "Mention légale obligatoire absente." in message
    assert message.endswith("Règles appliquées : BR-FR Flux 2 (CII) V1.4.0.03.")
