"""Hostile XML: a DOCTYPE with entities (one of them reading a local file) is a finding in
validation and in the supplier inbox, never a traceback, and nothing of it is expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.einvoice.validate import validate_invoice
from tests.einvoice.test_validate import invoice_xml

SECRET = "mot-de-passe-du-gerant"


def hostile_invoice(tmp_path: Path) -> bytes:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    xml = invoice_xml()
    declaration, _, rest = xml.partition(b"?>")
    doctype = (
        f'<!DOCTYPE rsm:CrossIndustryInvoice [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
        '<!ENTITY lol "lol">]>'
    ).encode()
    return declaration + b"?>\n" + doctype + rest.replace(b"FA-2026-0001", b"&xxe;&lol;", 1)


def test_a_doctype_is_a_finding_and_nothing_is_expanded(tmp_path: Path) -> None:
    report = validate_invoice(hostile_invoice(tmp_path), filename="fournisseur.xml")
    assert not report.ok
    assert [f.rule for f in report.findings] == ["DOCTYPE"]
    assert "DOCTYPE" in report.findings[0].message and "sécurité" in report.findings[0].message
    assert SECRET not in report.summary()


def test_invoice_validate_answers_with_a_finding(tmp_path: Path, capsys) -> None:
    path = tmp_path / "fournisseur.xml"
    path.write_bytes(hostile_invoice(tmp_path))
    assert main(["invoice", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "ERREUR DOCTYPE" in out and SECRET not in out


@pytest.mark.sqlite_only("the inbox is the same on both backends")
def test_one_hostile_flow_is_stored_refused_and_the_sync_goes_on(ledger, tmp_path: Path) -> None:
    from app.einvoice.facturx import build_invoice_pdf
    from app.einvoice.pdp.inbox import list_incoming, sync_once
    from app.einvoice.pdp.sandbox import SandboxPlatform
    from tests.einvoice import sample_bodies as samples
    from tests.einvoice.pdp.test_outbox import client_for

    envelope, body = samples.multi_rate_goods()
    with SandboxPlatform(lifecycle_step=3600) as sandbox:
        sandbox.add_incoming(hostile_invoice(tmp_path), "piege.xml", syntax="CII")
        sandbox.add_incoming(build_invoice_pdf(envelope, body), "bonne.pdf")
        assert sync_once(ledger, client_for(sandbox)).incoming == 2
    with ledger.reader() as session:
        received = sorted(list_incoming(session), key=lambda row: row.valid)
    hostile, good = received
    assert (
        not hostile.valid
        and hostile.validation == validate_invoice(hostile_invoice(tmp_path)).summary()
    )
    assert SECRET not in repr(hostile)
    assert good.valid and good.supplier_name == body["seller"]["name"]
