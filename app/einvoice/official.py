"""Lifecycle statuses (CDAR) and e-reporting files (Flux 10) held to the official rules.

Invoices go through ``validate.validate_invoice``; the two other kinds of message the
shop emits are checked here, with the same engine (one SaxonC processor, each compiled
stylesheet kept for the life of the process) and the same ``ValidationReport``.
``require_valid`` is the gate every sender calls: a message that breaks a fatal rule
never leaves the shop, and the refusal names the rule in French.
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

from app.einvoice.rules import BR_FR_CDV, FLUX10_PPF, FLUX10_XSD
from app.einvoice.validate import Finding, ValidationReport, schematron_findings
from app.errors import InvalidInput

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_CDAR_ROOT = (
    "{urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100}"
    "CrossDomainAcknowledgementAndResponse"
)
_WHAT = {"cdar": "Le statut de cycle de vie", "flux10": "Le fichier d'e-reporting"}
_xsd_lock = threading.Lock()
_flux10_schema: Any = None


class MessageRefused(InvalidInput):
    """A message breaks a fatal official rule: it is not sent."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message, detail="\n".join(f"{f.rule}: {f.message}" for f in report.fatal))
        self.report = report


def validate_cdar(xml: bytes) -> ValidationReport:
    """BR-FR-CDV V1.4.0.03 over a lifecycle status message (CDAR D22B)."""
    rules = (BR_FR_CDV.label,)
    root = _parse(xml)
    if isinstance(root, Finding):
        return ValidationReport("cdar", None, (root,), rules)
    if root.tag != _CDAR_ROOT:
        finding = _fatal("FORMAT", "Ce fichier n'est pas un message de cycle de vie (CDAR).")
        return ValidationReport("cdar", None, (finding,), rules)
    findings = schematron_findings(_text(root), [("br-fr-cdv", BR_FR_CDV.path)])
    return ValidationReport("cdar", None, tuple(dict.fromkeys(findings)), rules)


def validate_ereporting(xml: bytes) -> ValidationReport:
    """The DGFiP Flux 10 XSD, then the PPF Flux 10 schematron, over an e-reporting file."""
    rules = (FLUX10_XSD.label, FLUX10_PPF.label)
    root = _parse(xml)
    if isinstance(root, Finding):
        return ValidationReport("flux10", None, (root,), rules)
    findings = _xsd_findings(root)
    findings += schematron_findings(_text(root), [("flux10", FLUX10_PPF.path)])
    return ValidationReport("flux10", None, tuple(dict.fromkeys(findings)), rules)


def require_valid(report: ValidationReport, kind: str) -> ValidationReport:
    """``report`` if it has no fatal finding; else ``MessageRefused`` naming the rules."""
    if report.ok:
        return report
    first = report.fatal[0]
    others = len(report.fatal) - 1
    more = f" (et {others} autre{'s' if others > 1 else ''} règle{'s' if others > 1 else ''})"
    message = (
        f"{_WHAT.get(kind, 'Le message')} n'est pas envoyé. {first.message.rstrip('. ')}"
        f"{more if others else ''}. {report.rules_line()}"
    )
    raise MessageRefused(message, report)


def _fatal(rule: str, message: str, source: Any = "format") -> Finding:
    return Finding(rule, "fatal", message, None, source)


def _parse(xml: bytes) -> Any:
    try:
        return etree.fromstring(xml, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _fatal("XML", f"Le fichier XML est mal formé : {exc}")


def _text(root: Any) -> str:
    return etree.tostring(root, encoding="unicode")


def _schema() -> Any:
    global _flux10_schema
    if _flux10_schema is None:
        _flux10_schema = etree.XMLSchema(etree.parse(str(FLUX10_XSD.path)))
    return _flux10_schema


def _xsd_findings(root: Any) -> list[Finding]:
    with _xsd_lock:
        schema = _schema()
        if schema.validate(root):
            return []
        entries = list(schema.error_log)
    prefix = "Structure non conforme au schéma Flux 10 de la DGFiP"
    return [
        Finding("XSD", "fatal", f"{prefix} (ligne {e.line}) : {e.message}", e.path, "xsd")
        for e in entries
    ]
