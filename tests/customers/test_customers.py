"""Customers: identifiers checked, errors naming the field."""

from __future__ import annotations

import pytest

from app.customers.service import CustomerInfo, FieldError, save_customer, search_customers

GOOD = CustomerInfo(
    name="Boulangerie Martin",
    siren="123456782",
    siret="12345678200028",
    vat_number="FR11123456782",
    address="3 place du Marché",
    postcode="69002",
    city="Lyon",
)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"siren": "123456789"}, "siren", "SIREN invalide"),
        ({"siret": "12345678200011"}, "siret", "SIRET invalide"),
        ({"siret": "73282932000074"}, "siret", "commencer par le SIREN"),
        ({"vat_number": "FR00123456782"}, "vat_number", "TVA"),
        ({"siren": "", "siret": ""}, "siren", "SIREN obligatoire"),
        ({"name": " "}, "name", "obligatoire"),
        ({"country": "France"}, "country", "deux lettres"),
        ({"payment_terms_days": 365}, "payment_terms_days", "120"),
    ],
)
def test_bad_identifiers_name_their_field(ledger, change, field, words) -> None:
    from dataclasses import replace

    with pytest.raises(FieldError, match=words) as caught, ledger.transaction() as session:
        save_customer(session, replace(GOOD, **change))
    assert caught.value.field == field


def test_company_and_person_are_saved_and_found(ledger) -> None:
    with ledger.transaction() as session:
        saved = save_customer(session, GOOD)
        person = save_customer(
            session, CustomerInfo(kind="person", name="Jeanne Dupont", address="1 rue", city="Lyon")
        )
        assert saved.siret == "12345678200028" and person.siren == ""
        assert [c.name for c in search_customers(session, "martin")] == ["Boulangerie Martin"]
        assert [c.name for c in search_customers(session, "1234")] == ["Boulangerie Martin"]


def test_foreign_company_needs_its_vat_number(ledger) -> None:
    from dataclasses import replace

    foreign = replace(GOOD, siren="", siret="", vat_number="", country="BE")
    with pytest.raises(FieldError, match="étrangère"), ledger.transaction() as session:
        save_customer(session, foreign)
    with ledger.transaction() as session:
        saved = save_customer(session, replace(foreign, vat_number="BE0403170701"))
    assert saved.vat_number == "BE0403170701"
