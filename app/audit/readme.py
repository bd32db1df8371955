"""The LISEZMOI of a pack: what each file is, in French, for an auditor who opens the
folder without knowing Comptoir."""

from __future__ import annotations

from collections.abc import Sequence

from app.ledger.settings import FiscalSettings


def readme_text(
    *,
    year: int,
    shop: FiscalSettings,
    mark: str | None,
    verified: bool,
    fec: str,
    archives: Sequence[str],
    version: str,
) -> str:
    verdict = (
        "le journal est intègre"
        if verified
        else "LA VÉRIFICATION A TROUVÉ DES ANOMALIES (voir 03-verification.pdf)"
    )
    lines = []
    if mark:
        lines += [f"*** {mark.upper()} ***", "Ce dossier ne vaut pas pour un contrôle réel.", ""]
    lines += [
        f"Dossier pour un contrôle fiscal — exercice {year}",
        f"{shop.name or 'Entreprise'} — SIRET {shop.siret or 'non renseigné'}",
        f"Produit par Comptoir {version}. Résultat de la vérification : {verdict}.",
        "",
        "Contenu",
        "-------",
        "01-attestation-editeur.pdf     Attestation individuelle de l'éditeur (modèle "
        "BOI-LETTRE-000242), partie éditeur remplie, partie entreprise à compléter et signer.",
        "02-description-conditions.pdf  Comment le logiciel remplit les conditions "
        "d'inaltérabilité, de sécurisation, de conservation et d'archivage, point par point, "
        "avec les paragraphes du BOI-TVA-DECLA-30-10-30 et la pièce du dossier qui le montre.",
        "03-verification.pdf / .json    Vérification complète du journal fiscal le jour du "
        "dossier : empreintes, signatures, numérotation, totaux des clôtures, empreintes des "
        "clés publiques ; le JSON donne le même résultat pour un traitement informatique.",
        "04-clotures.pdf / .csv         Clôtures journalières, mensuelles et annuelle de "
        "l'exercice, grands totaux de période et total perpétuel.",
        "05-evenements-techniques.*     Journal des événements techniques (JET) de l'exercice.",
        "06-archives/                   Archives signées de l'exercice "
        f"({', '.join(archives) or 'aucune : exercice non clôturé'}), leur liste avec "
        "empreintes et la façon de les vérifier.",
        f"07-FEC/                        Fichier des écritures comptables et son contrôle "
        f"selon l'article A47 A-1 du LPF : {fec}",
        "cle-publique.pem               Clé publique de l'entreprise, qui vérifie la "
        "signature du manifeste.",
        "MANIFESTE.json / .sig          Empreinte SHA-256 de chaque fichier du dossier, "
        "signée par la clé de l'entreprise. Toute modification d'un fichier se voit.",
        "",
        "Le dossier et sa production sont inscrits dans le journal fiscal (événement "
        "« Dossier pour un contrôle fiscal », avec l'empreinte du manifeste) : un dossier "
        "produit plus tard se compare à celui-ci.",
        "",
        "Justificatif de conformité : depuis la loi de finances pour 2025 (article 43), "
        "l'administration peut exiger le certificat d'un organisme accrédité plutôt que "
        "l'attestation de l'éditeur. Les autres pièces de ce dossier valent dans les deux cas.",
    ]
    return "\r\n".join(lines) + "\r\n"
