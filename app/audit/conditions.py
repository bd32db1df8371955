"""What the pack says about the four conditions of article 286, I-3° bis of the CGI, and
who publishes the software.

Each point says how Comptoir meets the condition and names the file of the pack where an
auditor sees it for himself. The paragraph numbers are those of BOI-TVA-DECLA-30-10-30:
inalterability and security § 80 to 150, conservation § 160 to 210, archiving § 220 to
260.
"""

from __future__ import annotations

import json
from importlib import resources

from app import __version__
from app.documents.audit import Condition, Publisher

SOFTWARE = "Comptoir"
_BLANK = "…………………………"


def publisher() -> Publisher:
    """The publisher's identity, shipped with the application (``publisher.json``); a
    field left empty there is printed as a line to complete by hand."""
    data = json.loads(resources.files("app.audit").joinpath("publisher.json").read_text("utf-8"))
    return Publisher(
        software=SOFTWARE,
        version=__version__,
        name=data.get("name") or _BLANK,
        address=data.get("address") or _BLANK,
        siren=data.get("siren") or _BLANK,
        representative=data.get("representative") or _BLANK,
    )


CONDITIONS = (
    Condition(
        "1. Inaltérabilité",
        "§ 80 à 130",
        (
            (
                "Chaque vente, facture, avoir, règlement, clôture et événement technique est "
                "enregistré une seule fois, par un seul chemin d'écriture, dans un journal où "
                "aucune ligne n'est jamais modifiée ni supprimée (déclencheurs de la base qui "
                "refusent toute modification).",
                "03 — rapport de vérification ; 06 — archives",
            ),
            (
                "Une erreur se corrige par une opération de signe contraire (ticket "
                "d'annulation, avoir) qui référence l'original ; l'original reste lisible.",
                "05 — journal des événements ; 06 — archives (chain.csv)",
            ),
            (
                "Les tickets, factures, avoirs et clôtures ont chacun une numérotation "
                "continue, chronologique, sans trou ni réemploi, même après un arrêt brutal.",
                "03 — contrôle de numérotation ; 04 — clôtures",
            ),
        ),
    ),
    Condition(
        "2. Sécurisation",
        "§ 140 et 150",
        (
            (
                "Chaque enregistrement porte l'empreinte SHA-256 de l'enregistrement "
                "précédent et de son propre contenu (chaînage), signée par la clé ECDSA "
                "P-256 de l'entreprise ; la moindre modification rompt la chaîne.",
                "03 — rapport de vérification (empreintes et signatures)",
            ),
            (
                "Le contenu signé est une sérialisation canonique documentée, conservée avec "
                "l'enregistrement : une mise à jour du logiciel ne change jamais ce qui a été "
                "signé.",
                "06 — archives (README de chaque archive)",
            ),
            (
                "Les changements de clé sont eux-mêmes des enregistrements chaînés ; la "
                "vérification n'a besoin que des clés publiques.",
                "03 — empreintes des clés ; cle-publique.pem",
            ),
        ),
    ),
    Condition(
        "3. Conservation",
        "§ 160 à 210",
        (
            (
                "Clôtures journalières, mensuelles et annuelles obligatoires : une journée "
                "doit être close avant la première vente du jour suivant ; un mois et un "
                "exercice après leur dernier jour.",
                "04 — clôtures de l'exercice (PDF et CSV)",
            ),
            (
                "Chaque clôture enregistre le nombre de tickets, les totaux par taux de TVA et "
                "par moyen de paiement, le grand total de la période et le total perpétuel, "
                "jamais remis à zéro.",
                "04 — colonnes grand total et total perpétuel",
            ),
            (
                "Toutes les données sont conservées en ligne, ligne par ligne, au moins six "
                "ans ; les factures et avoirs restent lisibles dix ans (article L123-22 du "
                "code de commerce) même après une purge des données de caisse archivées.",
                "03 — rapport de vérification ; 07 — FEC",
            ),
            (
                "Le journal des événements techniques (démarrages, connexions, clôtures, "
                "vérifications, exports, restaurations, changements de version, mode "
                "formation) est chaîné et signé comme les ventes.",
                "05 — journal des événements techniques (JET)",
            ),
        ),
    ),
    Condition(
        "4. Archivage",
        "§ 220 à 260",
        (
            (
                "La clôture d'un exercice produit une archive signée : les enregistrements et "
                "les clôtures de la période en CSV et JSON lisibles, un manifeste des "
                "empreintes SHA-256, les clés publiques et la signature du manifeste.",
                "06 — archives de l'exercice",
            ),
            (
                "Une archive se vérifie sur n'importe quel poste, sans la base de l'entreprise "
                "(commande « comptoir archive verify »), et signale tout fichier altéré.",
                "06 — comment-verifier.txt",
            ),
            (
                "Chaque archivage est un enregistrement du journal, horodaté à la seconde ; "
                "une purge n'est possible qu'après archivage vérifié et laisse en ligne les "
                "clôtures et totaux perpétuels.",
                "05 — journal des événements ; 04 — clôtures",
            ),
        ),
    ),
)
