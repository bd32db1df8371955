"""The sandbox platform over real HTTP: OAuth2, the Flow API, lifecycle, faults."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from app.einvoice.facturx import build_invoice_pdf, data_dict, invoice_xml
from app.einvoice.pdp import flux10
from app.einvoice.pdp.cdar import build_cdar, parse_cdar
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.errors import InvalidInput
from tests.einvoice import sample_bodies as samples

TIMEOUT = 5.0
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
FRR = flux10.write(
    flux10.Header(
        "842159378-103-20260301-IN", "IN", datetime(2026, 3, 11, 9, 0, tzinfo=UTC),
        flux10.Party("0238", "0042", "Plateforme agréée 0042", "WK"),
        flux10.Party("0002", "842159378", "Épicerie", "SE"), "FR23842159378", "FR",
    ),
    flux10.TRANSACTIONS, date(2026, 3, 1), date(2026, 3, 10),
    days=(flux10.DayCategory(date(2026, 3, 2), "TLB1", 3,
                             (flux10.RateAmounts(2000, 1000, 200),)),),
)  # fmt: skip


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """Three valid Factur-X invoices: F2026-000123, F2026-000124, F2026-000125."""
    scenarios = (samples.multi_rate_goods, samples.services_vat_on_debits, samples.mixed)
    return {body["number"]: build_invoice_pdf(envelope, body) for envelope, body in
            (scenario() for scenario in scenarios)}  # fmt: skip


@pytest.fixture
def platform() -> Iterator[SandboxPlatform]:
    # A long step: lifecycle statuses come only from advance(), unless a test says otherwise.
    with SandboxPlatform(lifecycle_step=600) as sandbox:
        yield sandbox


class Shop:
    """A minimal client, written from the OpenAPI, to drive the sandbox."""

    def __init__(self, platform: SandboxPlatform) -> None:
        self.platform, self.url = platform, platform.url
        self.token = get_token(platform).json()["access_token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def submit(self, file: bytes, tracking_id: str, syntax: str = "Factur-X",
               timeout: float = TIMEOUT, **info: Any) -> requests.Response:  # fmt: skip
        flow_info = {"trackingId": tracking_id, "flowSyntax": syntax, "processingRule": "B2B",
                     "name": f"{tracking_id}.pdf", "sha256": hashlib.sha256(file).hexdigest(),
                     **info}  # fmt: skip
        files = {"flowInfo": (None, json.dumps(flow_info), "application/json"),
                 "file": (flow_info["name"], file, "application/pdf")}  # fmt: skip
        return requests.post(f"{self.url}/v1/flows", files=files, headers=self.auth,
                             timeout=timeout)  # fmt: skip

    def search(self, timeout: float = TIMEOUT, limit: int = 100, **where: Any) -> requests.Response:
        query = {"limit": limit, "where": where}
        return requests.post(f"{self.url}/v1/flows/search", json=query, headers=self.auth,
                             timeout=timeout)  # fmt: skip

    def results(self, **where: Any) -> list[dict[str, Any]]:
        response = self.search(**where)
        if response.status_code == 204:  # nothing matches: no content (Flow API 1.2.0)
            assert response.content == b""
            return []
        assert response.status_code == 200, response.text
        return list(response.json()["results"])

    def acknowledgement(self, flow_id: str) -> dict[str, Any]:
        """The flow's acknowledgement as its metadata gives it (``GET ?docType=Metadata``)."""
        return dict(self.fetch(flow_id, "Metadata").json()["acknowledgement"])

    def fetch(self, flow_id: str, doc_type: str | None = "Original") -> requests.Response:
        params = {"docType": doc_type} if doc_type else {}
        return requests.get(f"{self.url}/v1/flows/{flow_id}", params=params, headers=self.auth,
                            timeout=TIMEOUT)  # fmt: skip

    def statuses(self) -> list[tuple[str, str]]:
        """(invoice number, code) of every lifecycle flow received, in order."""
        found = []
        for flow in self.results(flowType=["CustomerInvoiceLC"], flowDirection=["In"]):
            status = parse_cdar(self.fetch(flow["flowId"]).content)
            found.append((status.invoice_number, status.code))
        return found


def get_token(platform: SandboxPlatform, secret: str = "secret", **extra: Any) -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": "comptoir", "client_secret": secret}
    return requests.post(platform.token_url, data=form | extra, timeout=TIMEOUT)


def health(platform: SandboxPlatform, timeout: float = TIMEOUT) -> int:
    return requests.get(f"{platform.url}/v1/healthcheck", timeout=timeout).status_code


def control(platform: SandboxPlatform, **command: Any) -> requests.Response:
    return requests.post(f"{platform.url}/sandbox/control", json=command, timeout=TIMEOUT)


@pytest.fixture
def shop(platform: SandboxPlatform) -> Shop:
    return Shop(platform)


# -- OAuth2 and health ---------------------------------------------------------------------


def test_token_by_form_and_by_basic_auth(platform: SandboxPlatform) -> None:
    answer = get_token(platform).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert answer["access_token"]

    basic = requests.post(platform.token_url, data={"grant_type": "client_credentials"},
                          auth=("comptoir", "secret"), timeout=TIMEOUT)  # fmt: skip
    assert basic.status_code == 200 and basic.json()["access_token"] != answer["access_token"]


def test_token_refused(platform: SandboxPlatform) -> None:
    wrong = get_token(platform, secret="devine")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert get_token(platform, grant_type="password").status_code == 400


def test_api_needs_a_valid_unexpired_token(pdfs: dict[str, bytes]) -> None:
    with SandboxPlatform(token_ttl=0.3) as platform:
        shop = Shop(platform)
        assert shop.search(trackingId="x").status_code == 204  # nothing: no content
        query = {"where": {"trackingId": "x"}}
        for headers in ({}, {"Authorization": "Bearer faux"}, {"Authorization": "Basic eDp5"}):
            response = requests.post(f"{platform.url}/v1/flows/search", headers=headers,
                                     json=query, timeout=TIMEOUT)  # fmt: skip
            assert response.status_code == 401
            assert response.json()["errorCode"] in ("MISSING_TOKEN", "INVALID_TOKEN")
        time.sleep(0.4)
        expired = shop.submit(pdfs["F2026-000123"], "t-expired")
        assert expired.status_code == 401 and expired.json()["errorCode"] == "INVALID_TOKEN"
        assert platform.deposits == []


def test_healthcheck_needs_no_token(platform: SandboxPlatform) -> None:
    assert health(platform) == 200


def test_kept_alive_connections_answer_without_delay(shop: Shop) -> None:
    with requests.Session() as session:
        session.headers.update(shop.auth)
        started = time.perf_counter()
        for _ in range(20):
            session.post(f"{shop.url}/v1/flows/search", json={"where": {"trackingId": "x"}})
        # About 1 ms each; 40 ms each if Nagle's algorithm held the answers back.
        assert time.perf_counter() - started < 0.6


def test_unknown_routes(shop: Shop) -> None:
    assert requests.get(f"{shop.url}/v2/flows", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{shop.url}/v1/flows", timeout=TIMEOUT).status_code == 405


# -- Submitting invoices -------------------------------------------------------------------


def test_valid_invoice_is_accepted_and_can_be_fetched(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    pdf = pdfs["F2026-000123"]
    response = shop.submit(pdf, "t-123", flowProfile="CIUS")

    assert response.status_code == 202, response.text
    flow = response.json()
    assert flow["trackingId"] == "t-123" and flow["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert (flow["flowType"], flow["flowDirection"], flow["flowSyntax"]) == (
        "CustomerInvoice", "Out", "Factur-X")  # fmt: skip
    assert flow["acknowledgement"] == {"status": "Pending"}  # checked after the deposit
    assert flow["submittedAt"] == flow["updatedAt"] and flow["submittedAt"].endswith("Z")
    assert [(d.tracking_id, d.flow_id) for d in platform.deposits] == [("t-123", flow["flowId"])]

    original = shop.fetch(flow["flowId"])
    assert original.content == pdf and original.headers["Content-Type"] == "application/pdf"
    assert "attachment" in original.headers["Content-Disposition"]
    metadata = shop.fetch(flow["flowId"], None).json()
    assert metadata["acknowledgement"] == {"status": "Ok"}
    assert metadata["updatedAt"] > metadata["submittedAt"] == flow["submittedAt"]
    assert {k: v for k, v in metadata.items() if k not in ("acknowledgement", "updatedAt")} == {
        k: v for k, v in flow.items() if k not in ("acknowledgement", "updatedAt")}  # fmt: skip
    converted = shop.fetch(flow["flowId"], "Converted")
    assert converted.headers["Content-Type"] == "application/xml"
    assert b"CrossIndustryInvoice" in converted.content
    assert shop.fetch(flow["flowId"], "ReadableView").content == pdf
    assert shop.fetch(flow["flowId"], "Autre").status_code == 400
    assert shop.fetch("00000000-0000-0000-0000-000000000000").status_code == 404


def test_sha256_mismatch_is_refused(platform: SandboxPlatform, shop: Shop,
                                    pdfs: dict[str, bytes]) -> None:  # fmt: skip
    response = shop.submit(pdfs["F2026-000123"], "t-sha", sha256="0" * 64)
    assert response.status_code == 422 and response.json()["errorCode"] == "ChecksumMismatch"
    assert platform.deposits == []


def test_identical_resubmission_is_refused(platform: SandboxPlatform, shop: Shop,
                                           pdfs: dict[str, bytes]) -> None:  # fmt: skip
    first = shop.submit(pdfs["F2026-000123"], "t-1").json()
    again = shop.submit(pdfs["F2026-000123"], "t-1")
    assert again.status_code == 409
    assert again.json()["errorCode"] == "AlreadyExistingFlow"
    assert again.json()["flowId"] == first["flowId"]
    assert len(platform.deposits) == 1


def test_concurrent_identical_submissions_are_stored_once(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(
        shop.submit(pdfs["F2026-000124"], "t-race").status_code)) for _ in range(5)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [202, 409, 409, 409, 409]
    assert len(platform.deposits) == 1


def test_invalid_invoice_is_refused_with_its_findings(
    platform: SandboxPlatform, shop: Shop
) -> None:
    envelope, body = samples.multi_rate_goods()
    root = etree.fromstring(invoice_xml(data_dict(envelope, body)))
    for note in root.iter(f"{{{RAM}}}IncludedNote"):
        if note.findtext(f"{{{RAM}}}SubjectCode") == "PMT":
            note.getparent().remove(note)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    response = shop.submit(xml, "t-invalid", syntax="CII")

    # Taken (202, Pending), then acknowledged in Error with the broken rules' ids.
    assert response.status_code == 202
    assert response.json()["acknowledgement"] == {"status": "Pending"}
    ack = shop.acknowledgement(response.json()["flowId"])
    assert ack["status"] == "Error"
    assert any(d["reasonCode"].startswith("BR-FR-05") for d in ack["details"])
    assert {"level", "item", "reasonCode", "reasonMessage"} <= set(ack["details"][0])
    assert platform.statuses("t-invalid") == []  # no lifecycle for a rejected flow


@pytest.mark.parametrize(
    ("syntax", "content", "code"),
    [("Factur-X", b"<Invoice/>", "FlowTypeError"), ("CII", b"pas une facture", "InvalidInvoice"),
     ("Factur-X", b"", "EmptyFlow"), ("CDAR", b"<a/>", "InvalidSchema"),
     ("FRR", b"pas du XML", "XML")],
)  # fmt: skip
def test_unacceptable_files(shop: Shop, syntax: str, content: bytes, code: str) -> None:
    response = shop.submit(content, "t-bad", syntax=syntax)
    if code == "EmptyFlow":  # nothing to take: refused at once
        assert (response.status_code, response.json()["errorCode"]) == (422, code)
        return
    assert response.status_code == 202
    ack = shop.acknowledgement(response.json()["flowId"])
    assert ack["status"] == "Error" and ack["details"]
    if code != "InvalidInvoice":  # an invalid invoice names the rules it breaks instead
        assert [d["reasonCode"] for d in ack["details"]] == [code]


def test_malformed_requests(shop: Shop, pdfs: dict[str, bytes]) -> None:
    url, pdf = f"{shop.url}/v1/flows", pdfs["F2026-000123"]
    no_file = requests.post(url, files={"flowInfo": (None, '{"flowSyntax": "CII"}')},
                            headers=shop.auth, timeout=TIMEOUT)  # fmt: skip
    not_json = requests.post(url, files={"flowInfo": (None, "{"), "file": ("f.pdf", pdf)},
                             headers=shop.auth, timeout=TIMEOUT)  # fmt: skip
    not_multipart = requests.post(url, json={"flowSyntax": "CII"}, headers=shop.auth,
                                  timeout=TIMEOUT)  # fmt: skip
    for response in (no_file, not_json, not_multipart):
        assert response.status_code == 400
    assert shop.submit(pdf, "t", syntax="PDF").status_code == 400
    assert shop.submit(pdf, "x" * 37).status_code == 400


# -- Searching ------------------------------------------------------------------------------


def test_search_by_tracking_id_and_pages_by_updated_after(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    ids = [shop.submit(pdf, f"t-{n}").json()["flowId"] for n, pdf in enumerate(pdfs.values())]

    assert [f["flowId"] for f in shop.results(trackingId="t-1")] == [ids[1]]
    assert shop.results(trackingId="inconnu") == []

    seen, after = [], "1970-01-01T00:00:00Z"
    while True:
        response = shop.search(limit=2, updatedAfter=after, flowType=["CustomerInvoice"])
        if response.status_code == 204:  # past the last: nothing new
            break
        page = response.json()
        assert page["limit"] == 2 and 1 <= len(page["results"]) <= 2
        seen += [flow["flowId"] for flow in page["results"]]
        after = page["results"][-1]["updatedAt"]
    assert seen == ids

    everything = shop.results(updatedAfter="2000-01-01T00:00:00+00:00")
    stamps = [flow["updatedAt"] for flow in everything]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps) == 6  # 3 + 3 "200"
    assert len(shop.results(flowDirection=["Out"], processingRule=["B2B"])) == 3


@pytest.mark.parametrize(
    "query",
    [{}, {"where": {}}, {"where": {"flowId": "x"}}, {"limit": 101, "where": {"trackingId": "x"}},
     {"where": {"updatedAfter": "hier"}}, {"where": {"flowType": 3}}],
)  # fmt: skip
def test_bad_searches(shop: Shop, query: dict[str, Any]) -> None:
    response = requests.post(f"{shop.url}/v1/flows/search", json=query, headers=shop.auth,
                             timeout=TIMEOUT)  # fmt: skip
    assert response.status_code == 400 and response.json()["errorMessage"]


# -- Lifecycle ------------------------------------------------------------------------------


def test_lifecycle_deposited_then_made_available_then_approved(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    shop.submit(pdfs["F2026-000123"], "t-life")
    assert shop.statuses() == [("F2026-000123", "200")]

    assert platform.advance() == 2
    assert shop.statuses() == [("F2026-000123", code) for code in ("200", "203", "205")]
    assert platform.statuses("t-life") == platform.statuses("F2026-000123") == ["200", "203", "205"]
    assert platform.advance() == 0


def test_lifecycle_runs_by_itself_over_time(pdfs: dict[str, bytes]) -> None:
    with SandboxPlatform(lifecycle_step=0.1) as platform:
        shop = Shop(platform)
        shop.submit(pdfs["F2026-000123"], "t-time")
        time.sleep(0.35)
        assert [code for _, code in shop.statuses()] == ["200", "203", "205"]


def test_outcomes_told_in_advance(platform: SandboxPlatform, shop: Shop,
                                  pdfs: dict[str, bytes]) -> None:  # fmt: skip
    platform.set_outcome("t-refused", "210", "Prix non conforme", reason_code="CALCUL_ERR")
    platform.set_outcome("F2026-000124", "213", "Destinataire inconnu")
    platform.set_default_outcome(None)
    shop.submit(pdfs["F2026-000123"], "t-refused")
    shop.submit(pdfs["F2026-000124"], "t-rejected")
    shop.submit(pdfs["F2026-000125"], "t-silent")

    platform.advance()

    assert platform.statuses("t-refused") == ["200", "203", "210"]
    assert platform.statuses("t-rejected") == ["200", "213"]
    assert platform.statuses("t-silent") == ["200", "203"]
    last = shop.results(flowType=["CustomerInvoiceLC"])[-1]
    refusal = [parse_cdar(shop.fetch(f["flowId"]).content) for f in
               shop.results(flowType=["CustomerInvoiceLC"])]  # fmt: skip
    refused = next(s for s in refusal if s.code == "210")
    assert (refused.reason_code, refused.reason, refused.sender) == (
        "CALCUL_ERR", "Prix non conforme", "901873646")  # fmt: skip
    assert last["flowSyntax"] == "CDAR" and last["flowDirection"] == "In"
    with pytest.raises(InvalidInput):
        platform.set_outcome("t", "999")


# -- Incoming flows: supplier invoices, statuses and e-reporting from the shop -----------


def test_supplier_invoice_is_listed_fetched_and_answered(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    flow_id = platform.add_incoming(pdfs["F2026-000124"], "fournisseur.pdf")

    listed = shop.results(flowType=["SupplierInvoice"], flowDirection=["In"])
    assert [flow["flowId"] for flow in listed] == [flow_id]
    assert listed[0]["name"] == "fournisseur.pdf"
    assert shop.fetch(flow_id).content == pdfs["F2026-000124"]

    answer = build_cdar("F2026-000124", "2026-11-22", "207", reason="Quantité erronée",
                        reason_code="QTE_ERR",
                        sender_siren="901873646", receiver_siren="842159378")  # fmt: skip
    response = shop.submit(answer, "t-answer", syntax="CDAR", name="litige.xml")
    assert response.status_code == 202
    assert (response.json()["flowType"], response.json()["flowDirection"]) == (
        "SupplierInvoiceLC", "Out")  # fmt: skip
    assert [s.code for s in platform.received_statuses] == ["207"]
    assert platform.statuses(flow_id) == ["207"]


def test_shop_reports_its_own_invoice_paid(platform: SandboxPlatform, shop: Shop,
                                           pdfs: dict[str, bytes]) -> None:  # fmt: skip
    shop.submit(pdfs["F2026-000123"], "t-paid")
    paid = build_cdar(
        "F2026-000123",
        "2026-11-22",
        "212",
        sender_siren="842159378",
        receiver_siren="901873646",
        amounts={2000: 12000},
    )
    response = shop.submit(paid, "t-paid-212", syntax="CDAR")
    assert response.status_code == 202 and response.json()["flowType"] == "CustomerInvoiceLC"
    assert platform.statuses("t-paid") == ["200", "212"]


def test_a_broken_e_report_is_answered_with_the_rule_ids(platform: SandboxPlatform,
                                                         shop: Shop) -> None:  # fmt: skip
    old = b"<?xml version='1.0'?><Report><Day>2026-03-02</Day><Rate>20.00</Rate></Report>"
    response = shop.submit(old, "t-old", syntax="FRR", processingRule="B2C")
    assert response.status_code == 202
    ack = shop.acknowledgement(response.json()["flowId"])
    rules = {detail["reasonCode"] for detail in ack["details"]}
    assert ack["status"] == "Error"
    assert "XSD" in rules and platform.reports == []  # refused at the root element


def test_e_reporting_is_kept(platform: SandboxPlatform, shop: Shop) -> None:
    response = shop.submit(FRR, "t-frr", syntax="FRR", processingRule="B2C")
    assert response.status_code == 202
    assert response.json()["flowType"] == "AggregatedCustomerTransactionReport"
    assert [(r.tracking_id, r.content) for r in platform.reports] == [("t-frr", FRR)]
    assert [d.syntax for d in platform.deposits] == ["FRR"]


# -- Faults -------------------------------------------------------------------------------


def test_fail_next(platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]) -> None:
    platform.fail_next(2, status=502, on="submit")
    assert health(platform) == 200
    for _ in range(2):
        failed = shop.submit(pdfs["F2026-000123"], "t-fail")
        assert failed.status_code == 502 and failed.json()["errorCode"] == "INTERNAL_ERROR"
    assert platform.deposits == []
    assert shop.submit(pdfs["F2026-000123"], "t-fail").status_code == 202


def test_throttle_next(platform: SandboxPlatform, shop: Shop) -> None:
    platform.throttle_next(1, retry_after=3)
    throttled = shop.search(trackingId="x")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.json()["errorCode"] == "TOO_MANY_REQUESTS"
    assert shop.search(trackingId="x").status_code == 204  # nothing: no content


def test_stall_next_makes_the_client_time_out(platform: SandboxPlatform, shop: Shop,
                                              pdfs: dict[str, bytes]) -> None:  # fmt: skip
    platform.stall_next(1, seconds=0.6, on="submit")
    with pytest.raises(requests.Timeout):
        shop.submit(pdfs["F2026-000123"], "t-slow", timeout=0.2)
    assert shop.results(trackingId="t-slow") == []  # still waiting: nothing stored yet
    deadline = time.monotonic() + 5  # the first validation alone takes about a second
    while not platform.deposits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [f["trackingId"] for f in shop.results(trackingId="t-slow")] == ["t-slow"]
    assert len(platform.deposits) == 1


def test_drop_next_stores_the_flow_but_loses_the_answer(
    platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]
) -> None:
    platform.drop_next(1, on="submit")
    with pytest.raises(requests.ConnectionError):
        shop.submit(pdfs["F2026-000123"], "t-lost")
    found = shop.results(trackingId="t-lost")
    assert [f["flowType"] for f in found] == ["CustomerInvoice"]
    assert shop.submit(pdfs["F2026-000123"], "t-lost").status_code == 409
    assert [d.tracking_id for d in platform.deposits] == ["t-lost"]


def test_reject_next(platform: SandboxPlatform, shop: Shop, pdfs: dict[str, bytes]) -> None:
    platform.reject_next(1)
    rejected = shop.submit(pdfs["F2026-000123"], "t-reject")
    assert rejected.status_code == 422 and rejected.json()["errorCode"] == "InvalidInvoice"
    assert shop.submit(pdfs["F2026-000123"], "t-reject").status_code == 202


def test_set_down_answers_503_then_refuses_connections(platform: SandboxPlatform) -> None:
    platform.set_down(True)
    assert health(platform) == 503 and get_token(platform).status_code == 503
    platform.set_down(False)
    assert health(platform) == 200

    platform.set_down(True, refuse=True)
    with pytest.raises(requests.ConnectionError):
        health(platform, timeout=1)
    platform.set_down(False)
    assert health(platform) == 200

    platform.set_down(True, refuse=True, seconds=0.2)
    with pytest.raises(requests.ConnectionError):
        health(platform, timeout=1)
    time.sleep(0.4)
    assert health(platform) == 200


def test_unplugging_also_cuts_kept_alive_connections(platform: SandboxPlatform) -> None:
    url = f"{platform.url}/v1/healthcheck"
    with requests.Session() as session:
        assert session.get(url, timeout=TIMEOUT).status_code == 200
        platform.set_down(True, refuse=True)
        with pytest.raises(requests.ConnectionError):
            session.get(url, timeout=1)
        platform.set_down(False)
        assert session.get(url, timeout=TIMEOUT).status_code == 200
        platform.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(url, timeout=1)


def test_chaos_mixes_errors_timeouts_and_drops(platform: SandboxPlatform) -> None:
    platform.chaos(0.6, seed=7, stall_seconds=0.3, on="health")
    outcomes: Counter[str] = Counter()
    for _ in range(30):
        try:
            outcomes[str(health(platform, timeout=0.1))] += 1
        except requests.Timeout:
            outcomes["timeout"] += 1
        except requests.ConnectionError:
            outcomes["drop"] += 1
    assert {"200", "500", "timeout", "drop"} <= set(outcomes), outcomes
    platform.chaos(0)
    assert all(health(platform) == 200 for _ in range(5))
    with pytest.raises(InvalidInput):
        platform.chaos(2)


def test_faults_only_hit_the_named_operations(platform: SandboxPlatform) -> None:
    platform.fail_next(1, on=["search", "get"])
    assert health(platform) == 200 and get_token(platform).status_code == 200
    with pytest.raises(InvalidInput):
        platform.drop_next(1, on="upload")
    platform.clear_faults()
    assert Shop(platform).search(trackingId="x").status_code == 204


def test_control_endpoint_for_another_process(platform: SandboxPlatform,
                                              pdfs: dict[str, bytes]) -> None:  # fmt: skip
    assert control(platform, action="fail_next", n=1, status=500, on=["health"]).json()["ok"]
    assert health(platform) == 500 and health(platform) == 200
    assert control(platform, action="set_down", down=True).status_code == 200
    assert health(platform) == 503
    control(platform, action="set_down", down=False)

    encoded = base64.b64encode(pdfs["F2026-000125"]).decode()
    added = control(platform, action="add_incoming", file_base64=encoded, filename="f.pdf")
    shop = Shop(platform)
    assert [f["flowId"] for f in shop.results(flowType=["SupplierInvoice"])] == [
        added.json()["result"]]  # fmt: skip
    shop.submit(pdfs["F2026-000123"], "t-ctl")
    control(platform, action="set_outcome", key="t-ctl", code="210", reason="Non commandé")
    assert control(platform, action="advance").json()["result"] == 2
    assert control(platform, action="statuses", key="t-ctl").json()["result"] == [
        "200", "203", "210"]  # fmt: skip
    state = control(platform, action="state").json()["result"]
    assert [d["tracking_id"] for d in state["deposits"]] == ["t-ctl"]

    for bad in ({"action": "stop"}, {"action": "fail_next", "x": 1},
                {"action": "set_down", "down": True, "refuse": True}):  # fmt: skip
        refused = control(platform, **bad)
        assert refused.status_code == 400 and refused.json()["errorMessage"]
    assert health(platform) == 200


def test_stop_is_prompt_even_with_a_stalled_request() -> None:
    platform = SandboxPlatform().start()
    platform.stall_next(1, seconds=30, on="health")
    with pytest.raises(requests.Timeout):
        health(platform, timeout=0.2)
    started = time.monotonic()
    platform.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(requests.ConnectionError):
        health(platform, timeout=1)
    platform.stop()  # twice is harmless


def test_serve_runs_in_its_own_process_until_ctrl_c() -> None:
    code = "from app.einvoice.pdp.sandbox import serve; serve(0, client_secret='s3')"
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", code], cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert first.startswith("Plateforme de test") and url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/v1/healthcheck", timeout=TIMEOUT).status_code == 200
        assert control_url_works(url)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        printed = first + process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Secret client : s3" in printed and "arrêtée" in printed
    assert process.returncode == 0


def control_url_works(url: str) -> bool:
    command = {"action": "fail_next", "n": 1, "on": "health"}
    requests.post(f"{url}/sandbox/control", json=command, timeout=TIMEOUT).raise_for_status()
    return requests.get(f"{url}/v1/healthcheck", timeout=TIMEOUT).status_code == 500
