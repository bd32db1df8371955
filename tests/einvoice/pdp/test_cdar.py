"""CDAR lifecycle messages: the XP Z12-012 examples, and what ``build_cdar`` writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from app.einvoice.official import MessageRefused, validate_cdar
from app.einvoice.pdp.cdar import (
    BUYER_STATUSES,
    REASON_LABELS,
    REASONS_FOR,
    SELLER_STATUSES,
    STATUS_LABELS,
    LifecycleStatus,
    build_cdar,
    parse_cdar,
)
from app.errors import InvalidInput

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "cdar-examples"
needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(),
    reason=f"exemples CDAR de la norme XP Z12-012 absents ({EXAMPLES}) : dossier specs non fourni",
)
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
# file -> invoice number, invoice date, code, status date, reason code, sender
EXPECTED = {
    "UC1_F202500003_01-CDV-200_Deposee.xml":
        ("F202500003", "2025-07-01", "200", "2025-07-01T15:10:00Z", None, None),
    "UC1_F202500003_01-CDV-200_Deposee_POUR_PPF.xml":
        ("F202500003", "2025-07-01", "200", "2025-07-01T15:10:00Z", None, "0003"),
    "UC1_F202500003_02-CDV-202_Recue.xml":
        ("F202500003", "2025-07-01", "202", "2025-07-01T16:10:00Z", None, None),
    "UC1_F202500003_03-CDV-203_Mise_a_disposition.xml":
        ("F202500003", "2025-07-01", "203", "2025-07-01T16:25:00Z", None, None),
    "UC1_F202500003_04-CDV-204_Prise_en_charge.xml":
        ("F202500003", "2025-07-01", "204", "2025-07-01T18:00:00Z", None, "200000008"),
    "UC1_F202500003_05-CDV-205_Approuvee.xml":
        ("F202500003", "2025-07-01", "205", "2025-07-02T10:00:00Z", None, "200000008"),
    "UC1_F202500003_06-CDV-211_Paiement_transmis.xml":
        ("F202500003", "2025-07-01", "211", "2025-07-30T10:00:00Z", None, "200000008"),
    "UC1_F202500003_07-CDV-212_Encaissee.xml":
        ("F202500003", "2025-07-01", "212", "2025-08-02T10:00:00Z", None, "100000009"),
    "UC1_F202500003_07-CDV-212_Encaissee_POUR_PPF.xml":
        ("F202500003", "2025-07-01", "212", "2025-08-02T10:00:00Z", None, "100000009"),
    "UC4_F202500006_04-CDV-207_En_litige.xml":
        ("F202500006", "2025-07-01", "207", "2025-07-01T18:00:00Z", "TX_TVA_ERR", "200000008"),
    "UC5_F202500007_04-CDV-207_En_litige.xml":
        ("F202500007", "2025-07-02", "207", "2025-07-02T18:00:00Z", "TX_TVA_ERR", "200000008"),
}  # fmt: skip


@needs_examples
def test_every_example_is_known() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.xml")) == sorted(EXPECTED)


@needs_examples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parses_the_standard_examples(name: str) -> None:
    number, invoice_date, code, issued_at, reason_code, sender = EXPECTED[name]

    status = parse_cdar((EXAMPLES / name).read_bytes())

    assert status.invoice_number == number
    assert status.invoice_date == invoice_date
    assert status.code == code
    assert status.label == STATUS_LABELS[code]
    assert status.issued_at == issued_at
    assert status.reason_code == reason_code
    assert status.sender == sender
    assert status.document_id


@needs_examples
def test_reads_the_dispute_reason() -> None:
    status = parse_cdar((EXAMPLES / "UC4_F202500006_04-CDV-207_En_litige.xml").read_bytes())
    assert (status.label, status.reason) == ("En litige", "Taux de TVA erroné")
    assert status.document_id == "F202500006_207_20250701161000#380_20250701"


def _reason_for(code: str) -> str | None:
    return {"200": "NON_TRANSMISE", "221": "ROUTAGE_ERR"}.get(code) or REASONS_FOR.get(
        code, ("PU_ERR",)
    )[0]


@pytest.mark.parametrize("code", sorted(STATUS_LABELS))
def test_build_then_parse_round_trip(code: str) -> None:
    at = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
    reason_code = _reason_for(code)

    xml = build_cdar(
        "F2026-000123", "2026-03-01", code, reason_code=reason_code,
        reason="Prix unitaire erroné", sender_siren="901873646", receiver_siren="842159378",
        issued_at=at, amounts={2000: 12000} if code == "212" else None,
    )  # fmt: skip

    assert parse_cdar(xml) == LifecycleStatus(
        invoice_number="F2026-000123", invoice_date="2026-03-01", code=code,
        label=STATUS_LABELS[code], issued_at="2026-03-02T09:30:15Z", reason_code=reason_code,
        reason="Prix unitaire erroné", sender="901873646",
        document_id=f"F2026-000123_{code}_20260302093015#380_20260301",
    )  # fmt: skip
    assert validate_cdar(xml).ok


# Every status the shop emits, as built by the application, against BR-FR-CDV V1.4.0.03.
@pytest.mark.parametrize("code", [*SELLER_STATUSES, *BUYER_STATUSES])
def test_every_status_the_shop_emits_passes_the_official_rules(code: str) -> None:
    xml = build_cdar(
        "F2026-000123", "2026-03-01", code, reason_code=REASONS_FOR.get(code, (None,))[0],
        sender_siren="901873646", receiver_siren="842159378",
        amounts={2000: 12000, 550: 1055} if code == "212" else None, check=False,
    )  # fmt: skip
    report = validate_cdar(xml)
    assert report.ok, [(f.rule, f.message) for f in report.findings]
    assert report.rules == ("BR-FR-CDV CDAR V1.4.0.03",)


def test_encaissee_carries_the_amount_received_per_rate() -> None:
    xml = build_cdar("F1", "2026-03-01", "212", sender_siren="901873646",
                     receiver_siren="842159378", amounts={2000: 12000, 550: 1055})  # fmt: skip
    root = etree.fromstring(xml)
    status = (
        "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument/ram:SpecifiedDocumentStatus"
    )
    received = [
        (c.findtext("ram:TypeCode", namespaces=NS), c.findtext("ram:ValueAmount", namespaces=NS),
         c.findtext("ram:ValuePercent", namespaces=NS))
        for c in root.findall(f"{status}/ram:SpecifiedDocumentCharacteristic", NS)
    ]  # fmt: skip
    assert received == [("MEN", "120.00", "20.00"), ("MEN", "10.55", "5.50")]
    assert root.findtext(f"{status}/ram:SequenceNumeric", namespaces=NS) == "1"


def test_the_official_rules_catch_what_the_old_messages_lacked() -> None:
    # A 212 without amounts (BR-FR-CDV-14), a 210 without reason code (BR-FR-CDV-15).
    old_212 = build_cdar("F1", "2026-03-01", "212", sender_siren="901873646",
                         receiver_siren="842159378", amounts={2000: 100}, check=False)  # fmt: skip
    old_212 = old_212.replace(
        b"<ram:TypeCode>MEN</ram:TypeCode>", b"<ram:TypeCode>MPA</ram:TypeCode>"
    )
    assert "BR-FR-CDV-14_MDT-207" in {f.rule for f in validate_cdar(old_212).fatal}
    old_210 = build_cdar("F1", "2026-03-01", "210", reason_code="DOUBLON",
                         sender_siren="901873646", receiver_siren="842159378")  # fmt: skip
    old_210 = old_210.replace(b"<ram:ReasonCode>DOUBLON</ram:ReasonCode>", b"")
    old_210 = old_210.replace(b"<ram:SequenceNumeric>1</ram:SequenceNumeric>", b"")
    rules = {f.rule for f in validate_cdar(old_210).fatal}
    assert {"BR-FR-CDV-15_MDT-113", "BR-FR-CDV-16_MDT-124-2"} <= rules


@pytest.mark.parametrize(
    ("code", "kwargs", "message"),
    [("210", {}, "exige un code motif"),
     ("210", {"reason_code": "AUTRE"}, "non admis pour le statut « Refusée »"),
     ("208", {"reason_code": "TX_TVA_ERR"}, "non admis"),
     ("212", {}, "montant encaissé pour chaque taux"),
     ("205", {"reason_code": "NON_TRANSMISE"}, "non admis")],
)  # fmt: skip
def test_reasons_and_amounts_are_checked_in_french(code: str, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_cdar("F1", "2026-03-01", code, sender_siren="901873646",
                   receiver_siren="842159378", **kwargs)  # fmt: skip


def test_a_message_breaking_a_rule_is_refused_naming_it() -> None:
    with pytest.raises(MessageRefused) as caught:
        build_cdar("F1", "2026-03-01", "205")  # no SIRENs: BR-FR-CDV-07, -08, -13
    assert "BR-FR-CDV" in caught.value.message and "V1.4.0.03" in caught.value.message


def test_every_reason_has_a_french_label() -> None:
    assert all(code in REASON_LABELS for codes in REASONS_FOR.values() for code in codes)


def test_build_minimal_message() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    status = parse_cdar(build_cdar("F1", None, "200", check=False))
    assert (status.invoice_number, status.invoice_date, status.code) == ("F1", None, "200")
    assert (status.reason, status.reason_code, status.sender) == (None, None, None)
    assert datetime.fromisoformat(status.issued_at) >= before


def test_build_converts_times_to_utc_and_accepts_dates() -> None:
    paris = timezone(timedelta(hours=1))
    xml = build_cdar(
        "F2",
        date(2026, 3, 2),
        "212",
        issued_at=datetime(2026, 3, 2, 10, 0, tzinfo=paris),
        amounts={2000: 100},
        check=False,
    )
    status = parse_cdar(xml)
    assert (status.issued_at, status.invoice_date) == ("2026-03-02T09:00:00Z", "2026-03-02")


@pytest.mark.parametrize(
    ("code", "issuer_role", "recipient_role", "type_code"),
    [("200", "WK", "SE", "305"), ("205", "BY", "SE", "23"), ("210", "BY", "SE", "23"),
     ("212", "SE", "BY", "23"), ("213", "WK", "SE", "305")],
)  # fmt: skip
def test_roles_follow_the_examples(
    code: str, issuer_role: str, recipient_role: str, type_code: str
) -> None:
    xml = build_cdar(
        "F3", "2026-03-02", code, receiver_siren="842159378", sender_siren="901873646",
        reason_code=REASONS_FOR.get(code, (None,))[0],
        amounts={2000: 100} if code == "212" else None,
    )  # fmt: skip
    root = etree.fromstring(xml)
    header = "rsm:ExchangedDocument"
    assert root.findtext(f"{header}/ram:IssuerTradeParty/ram:RoleCode", namespaces=NS) == (
        issuer_role
    )
    assert root.findtext(f"{header}/ram:RecipientTradeParty/ram:RoleCode", namespaces=NS) == (
        recipient_role
    )
    assert root.findtext("rsm:AcknowledgementDocument/ram:TypeCode", namespaces=NS) == type_code


MINIMAL = build_cdar("F4", None, "205", check=False)


@pytest.mark.parametrize(
    "xml",
    [b"", b"pas du XML", b"<Invoice/>", b"<?xml version='1.0'?><a><b></a>",
     MINIMAL.replace(b"<ram:ProcessConditionCode>205</ram:ProcessConditionCode>", b""),
     MINIMAL.replace(b'format="204">', b'format="204">2026-')],
    ids=["vide", "texte", "autre-racine", "mal-forme", "sans-statut", "date-illisible"],
)  # fmt: skip
def test_unreadable_messages_are_refused_in_french(xml: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_cdar(xml)
    assert any(word in caught.value.message for word in ("cycle de vie", "Date", "CDAR"))


@pytest.mark.parametrize(
    ("args", "message"),
    [(("F5", None, "299"), "Statut de cycle de vie inconnu"),
     (("F5", "02/03/2026", "205"), "Date de facture invalide"),
     (("  ", None, "205"), "numéro de la facture")],
)  # fmt: skip
def test_build_refuses_bad_input(args: tuple[str, str | None, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_cdar(*args)
