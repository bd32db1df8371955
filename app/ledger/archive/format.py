"""The files inside a period archive (format ``comptoir-archive/1``) and how each is written.

The readable files (CSV and JSON) are rendered record by record by the code below, both
when an archive is written and when it is verified: verification renders them again from
the signed chain and compares them byte for byte, so that a readable copy can never say
something the signed records do not. Changing what a renderer writes therefore changes
the format: do it under a new format id, never under ``comptoir-archive/1``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from app.ledger.events import EventCode
from app.ledger.records import (
    CLOSURE_TYPES,
    RECORD_LABELS,
    SALE_TYPES,
    RecordType,
    derived_rows,
    document_number,
)
from app.values.money import plain_cents
from app.values.vat import rate_number

FORMAT_ID = "comptoir-archive/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CHAIN = "chaine.jsonl"
KEYS = "cles_publiques.pem"
README = "LISEZMOI.txt"
RECORDS_CSV = "enregistrements.csv"
RECORDS_JSON = "enregistrements.json"
TICKETS_CSV = "tickets.csv"
TICKET_LINES_CSV = "lignes_tickets.csv"
VAT_CSV = "tva.csv"
PAYMENTS_CSV = "paiements.csv"
CLOSURES_CSV = "clotures.csv"
CLOSURES_JSON = "clotures.json"
EVENTS_CSV = "evenements.csv"
# Files every archive holds besides the manifest and its signature.
SIGNED_FILES = (CHAIN, KEYS, README)

_BOM = "\ufeff".encode()
_TICKET = RecordType.TICKET.value
_EVENT = RecordType.EVENT.value
_SALE_VALUES = frozenset(t.value for t in SALE_TYPES)
_CLOSURE_VALUES = frozenset(t.value for t in CLOSURE_TYPES)
_TICKET_KINDS = {"sale": "vente", "cancellation": "annulation", "refund": "remboursement"}


# -- the chain file ---------------------------------------------------------------------
@dataclass(frozen=True)
class ChainRecord:
    """One line of ``chaine.jsonl``: a record exactly as chained and signed."""

    seq: int
    record_type: str
    number: int
    key_id: str
    canonical_version: int
    canonical: bytes
    prev_hash: str
    hash: str
    signature: bytes

    def line(self) -> bytes:
        data = {
            "seq": self.seq,
            "record_type": self.record_type,
            "number": self.number,
            "key_id": self.key_id,
            "canonical_version": self.canonical_version,
            "canonical": base64.b64encode(self.canonical).decode("ascii"),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> ChainRecord:
        """Parse one line; ValueError when it is not a well-formed chain line."""
        try:
            data = json.loads(line)
            record = cls(
                seq=data["seq"],
                record_type=data["record_type"],
                number=data["number"],
                key_id=data["key_id"],
                canonical_version=data["canonical_version"],
                canonical=base64.b64decode(data["canonical"], validate=True),
                prev_hash=data["prev_hash"],
                hash=data["hash"],
                signature=base64.b64decode(data["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed chain line: {exc}") from None
        ints = (record.seq, record.number, record.canonical_version)
        texts = (record.record_type, record.key_id, record.prev_hash, record.hash)
        if not all(type(v) is int for v in ints) or not all(type(v) is str for v in texts):
            raise ValueError("malformed chain line: wrong value types")
        if not (_HEX64.fullmatch(record.prev_hash) and _HEX64.fullmatch(record.hash)):
            raise ValueError("malformed chain line: hashes must be 64 hex digits")
        return record


_HEX64 = re.compile(r"[0-9a-f]{64}")


# -- public keys --------------------------------------------------------------------------
_PEM_BLOCK = re.compile(
    rb"-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----"
)


def keys_pem(keys: Iterable[tuple[str, str, bytes]]) -> bytes:
    """PEM blocks (``(key_id, caption, pem)``), each after a line of explanatory text,
    which PEM readers such as openssl skip."""
    out = []
    for key_id, caption, pem in keys:
        out.append(f"Clé {key_id} — {caption}\n".encode())
        out.append(pem if pem.endswith(b"\n") else pem + b"\n")
        out.append(b"\n")
    return b"".join(out)


def pem_blocks(data: bytes) -> list[bytes]:
    return _PEM_BLOCK.findall(data)


# -- French, Excel-friendly cells ------------------------------------------------------------
# The renderers run once per record and file, millions of times for a busy year: the few
# helpers called for every cell keep their recent answers (prices and rates repeat).
@lru_cache(maxsize=1 << 16, typed=True)
def amount(cents: int | None) -> str:
    """Cents as a French decimal without thousands separator: Excel reads it as a number."""
    return "" if cents is None else plain_cents(cents)


@lru_cache(maxsize=64, typed=True)
def rate(basis_points: int) -> str:
    """2000 -> "20", 550 -> "5,5", 210 -> "2,1"."""
    return rate_number(basis_points)


def quantity(text: str) -> str:
    return text.replace(".", ",")


def _day(iso: str | None) -> str:
    return "" if not iso else f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


@lru_cache(maxsize=8)
def _local_time(ts: str, tz: ZoneInfo) -> str:
    """Shop-local time of a canonical UTC timestamp ("2026-11-22T16:56:25.123456Z")."""
    return datetime.fromisoformat(ts).astimezone(tz).strftime("%H:%M:%S")


@lru_cache(maxsize=8)
def _number(record_type: str, number: int) -> str:
    return document_number(record_type, number)


@lru_cache(maxsize=32)
def _label(record_type: str) -> str:
    return RECORD_LABELS[RecordType(record_type)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


# -- readable files -------------------------------------------------------------------------
Rows = Callable[[ChainRecord, dict[str, Any], ZoneInfo], list[list[Any]]]


class ReadableFile:
    """One readable file, rendered a record at a time: ``header``, ``row`` for each record
    in chain order (empty bytes when the record has no line here), ``footer``."""

    name: str

    def header(self) -> bytes:
        raise NotImplementedError

    def row(self, record: ChainRecord, envelope: dict[str, Any]) -> bytes:
        raise NotImplementedError

    def footer(self) -> bytes:
        return b""


class CsvFile(ReadableFile):
    """UTF-8 with BOM, ';' separator, CRLF: what a French spreadsheet opens as it is."""

    def __init__(
        self,
        name: str,
        columns: tuple[str, ...],
        rows: Rows,
        tz: ZoneInfo,
        types: frozenset[str] | None = None,
    ) -> None:
        self.name, self.columns, self._rows, self._tz, self._types = name, columns, rows, tz, types
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=";", lineterminator="\r\n")

    def _encode(self, rows: Iterable[Iterable[Any]]) -> bytes:
        buffer = self._buffer
        self._writer.writerows(rows)
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data.encode("utf-8")

    def header(self) -> bytes:
        return _BOM + self._encode([self.columns])

    def row(self, record: ChainRecord, envelope: dict[str, Any]) -> bytes:
        if self._types is not None and record.record_type not in self._types:
            return b""
        rows = self._rows(record, envelope, self._tz)
        return self._encode(rows) if rows else b""


class JsonFile(ReadableFile):
    """A JSON array, one record per line: ``{"hash", "prev_hash", "record"}`` where
    ``record`` is the canonical envelope itself, exactly as signed."""

    def __init__(self, name: str, types: frozenset[str] | None = None) -> None:
        self.name, self._types, self._first = name, types, True

    def header(self) -> bytes:
        return b"[\n"

    def row(self, record: ChainRecord, envelope: dict[str, Any]) -> bytes:
        if self._types is not None and record.record_type not in self._types:
            return b""
        head = b"" if self._first else b",\n"
        self._first = False
        return (
            head
            + f'{{"hash":"{record.hash}","prev_hash":"{record.prev_hash}","record":'.encode()
            + record.canonical
            + b"}"
        )

    def footer(self) -> bytes:
        return b"\n]\n"


def _record_rows(rec: ChainRecord, env: dict[str, Any], tz: ZoneInfo) -> list[list[Any]]:
    _vat, _payments, total = derived_rows(rec.record_type, env["body"])
    return [
        [
            rec.seq,
            rec.record_type,
            _label(rec.record_type),
            _number(rec.record_type, rec.number),
            _day(env["date"]),
            _local_time(env["ts"], tz),
            env["ts"],
            env["till"],
            env["operator"],
            _text(env["period"]),
            _text(env["ref"]),
            amount(total),
            rec.key_id,
            rec.prev_hash,
            rec.hash,
        ]
    ]


def _ticket_rows(rec: ChainRecord, env: dict[str, Any], tz: ZoneInfo) -> list[list[Any]]:
    body = env["body"]
    original = body.get("original")
    return [
        [
            rec.seq,
            _number(_TICKET, rec.number),
            _TICKET_KINDS.get(body["kind"], body["kind"]),
            _day(env["date"]),
            _local_time(env["ts"], tz),
            env["till"],
            env["operator"],
            amount(body["total_excl"]),
            amount(body["total_vat"]),
            amount(body["total"]),
            amount(body["ticket_discount"]),
            amount(body["change"]),
            _number(_TICKET, original["number"]) if original else "",
            _text(body.get("reason")),
            rec.hash,
        ]
    ]


def _ticket_line_rows(rec: ChainRecord, env: dict[str, Any], _tz: ZoneInfo) -> list[list[Any]]:
    number = _number(_TICKET, rec.number)
    return [
        [
            rec.seq,
            number,
            index,
            line["label"],
            quantity(line["qty"]),
            amount(line["unit_price"]),
            rate(line["rate"]),
            amount(line["gross"]),
            amount(line["discount"]),
            amount(line["ticket_discount"]),
            amount(line["total"]),
            _text(line.get("ean")),
        ]
        for index, line in enumerate(env["body"]["lines"], 1)
    ]


def _vat_rows(rec: ChainRecord, env: dict[str, Any], _tz: ZoneInfo) -> list[list[Any]]:
    vat, _payments, _total = derived_rows(rec.record_type, env["body"])
    label = _label(rec.record_type)
    number = _number(rec.record_type, rec.number)
    return [
        [rec.seq, label, number, _day(env["date"]), rate(r), amount(b), amount(v), amount(t)]
        for r, b, v, t in vat
    ]


def _payment_rows(rec: ChainRecord, env: dict[str, Any], _tz: ZoneInfo) -> list[list[Any]]:
    _vat, payments, _total = derived_rows(rec.record_type, env["body"])
    label = _label(rec.record_type)
    number = _number(rec.record_type, rec.number)
    return [[rec.seq, label, number, _day(env["date"]), m, amount(a)] for m, a in payments]


def _closure_rows(rec: ChainRecord, env: dict[str, Any], tz: ZoneInfo) -> list[list[Any]]:
    body = env["body"]
    return [
        [
            rec.seq,
            _label(rec.record_type),
            _number(rec.record_type, rec.number),
            body["period"],
            _day(env["date"]),
            _local_time(env["ts"], tz),
            env["operator"],
            body["first_seq"],
            body["last_seq"],
            body["tickets"],
            body["refunds"],
            amount(body["total_excl"]),
            amount(body["total_vat"]),
            amount(body["total"]),
            amount(body["abs_total"]),
            amount(body["grand_total"]),
            amount(body["perpetual_total"]),
            amount(body["perpetual_abs_total"]),
            rec.hash,
        ]
    ]


def _event_rows(rec: ChainRecord, env: dict[str, Any], tz: ZoneInfo) -> list[list[Any]]:
    body = env["body"]
    code = body["code"]
    try:
        label = EventCode(code).label
    except ValueError:  # a code from a later version of the software
        label = code
    detail = json.dumps(body.get("detail"), ensure_ascii=False, sort_keys=True)
    return [
        [
            rec.seq,
            _number(_EVENT, rec.number),
            _day(env["date"]),
            _local_time(env["ts"], tz),
            env["operator"],
            code,
            label,
            detail,
        ]
    ]


RECORDS_COLUMNS = (
    "seq",
    "type",
    "nature",
    "numero",
    "date",
    "heure",
    "horodatage_utc",
    "caisse",
    "operateur",
    "periode",
    "reference_seq",
    "montant_ttc",
    "cle",
    "empreinte_precedente",
    "empreinte",
)
TICKETS_COLUMNS = (
    "seq",
    "numero",
    "nature",
    "date",
    "heure",
    "caisse",
    "operateur",
    "total_ht",
    "total_tva",
    "total_ttc",
    "remise_ticket",
    "rendu",
    "ticket_origine",
    "motif",
    "empreinte",
)
TICKET_LINES_COLUMNS = (
    "seq",
    "ticket",
    "ligne",
    "libelle",
    "quantite",
    "prix_unitaire",
    "taux_tva",
    "montant_brut",
    "remise_ligne",
    "part_remise_ticket",
    "total_ttc",
    "ean",
)
VAT_COLUMNS = ("seq", "nature", "numero", "date", "taux_tva", "base_ht", "tva", "total_ttc")
PAYMENTS_COLUMNS = ("seq", "nature", "numero", "date", "moyen", "montant")
CLOSURES_COLUMNS = (
    "seq",
    "nature",
    "numero",
    "periode",
    "date",
    "heure",
    "operateur",
    "premier_seq",
    "dernier_seq",
    "tickets",
    "tickets_negatifs",
    "total_ht",
    "total_tva",
    "total_ttc",
    "total_absolu",
    "grand_total_periode",
    "grand_total_perpetuel",
    "grand_total_perpetuel_absolu",
    "empreinte",
)
EVENTS_COLUMNS = ("seq", "numero", "date", "heure", "operateur", "code", "evenement", "detail")


def readable_files(timezone: str) -> list[ReadableFile]:
    """Fresh renderers for every readable file, in file-name order."""
    tz = ZoneInfo(timezone)
    tickets = frozenset({_TICKET})
    files: list[ReadableFile] = [
        CsvFile(RECORDS_CSV, RECORDS_COLUMNS, _record_rows, tz),
        JsonFile(RECORDS_JSON),
        CsvFile(TICKETS_CSV, TICKETS_COLUMNS, _ticket_rows, tz, tickets),
        CsvFile(TICKET_LINES_CSV, TICKET_LINES_COLUMNS, _ticket_line_rows, tz, tickets),
        CsvFile(VAT_CSV, VAT_COLUMNS, _vat_rows, tz, _SALE_VALUES),
        CsvFile(PAYMENTS_CSV, PAYMENTS_COLUMNS, _payment_rows, tz, _SALE_VALUES),
        CsvFile(CLOSURES_CSV, CLOSURES_COLUMNS, _closure_rows, tz, _CLOSURE_VALUES),
        JsonFile(CLOSURES_JSON, _CLOSURE_VALUES),
        CsvFile(EVENTS_CSV, EVENTS_COLUMNS, _event_rows, tz, frozenset({_EVENT})),
    ]
    return sorted(files, key=lambda f: f.name)


READABLE_NAMES = tuple(f.name for f in readable_files("UTC"))
ALL_FILES = tuple(sorted((*SIGNED_FILES, *READABLE_NAMES, MANIFEST, SIGNATURE)))


# -- LISEZMOI.txt ---------------------------------------------------------------------------
_README = """\
ARCHIVE FISCALE COMPTOIR — {what}
{training}
Boutique : {shop}
Identifiant du journal : {ledger_id}
Enregistrements n°{first_seq} à n°{last_seq} ({records} enregistrements)
Archive créée le {created_at} (UTC) par Comptoir {version}
Clé de signature : {key_id}
Empreinte de la clé : {fingerprint}

Cette archive contient les enregistrements du journal fiscal de la période, de
l'enregistrement daté du premier jour de la période jusqu'à la clôture de la période
incluse, sous une forme lisible sans Comptoir et sous leur forme signée.

FICHIERS

  manifest.json         description de l'archive et empreinte SHA-256 de chaque fichier
                        (sauf manifest.json et manifest.sig)
  manifest.sig          signature ECDSA P-256 (SHA-256, encodage DER) des octets exacts
                        de manifest.json, par la clé indiquée dans « key_id »
  cles_publiques.pem    clés publiques des enregistrements de la période ; la première
                        est celle qui signe le manifeste
  chaine.jsonl          un enregistrement par ligne, tel qu'il a été chaîné et signé
  enregistrements.csv   tous les enregistrements (une ligne chacun)
  enregistrements.json  tous les enregistrements, contenu signé décodé
  tickets.csv           tickets de caisse (ventes, annulations, remboursements)
  lignes_tickets.csv    lignes des tickets (articles)
  tva.csv               ventilation de la TVA par taux des ventes, factures et avoirs
  paiements.csv         règlements par moyen de paiement
  clotures.csv          clôtures journalières, mensuelles et annuelle, avec les grands
                        totaux de la période et perpétuels
  clotures.json         les mêmes clôtures, contenu signé décodé
  evenements.csv        journal des événements techniques (JET)

CONVENTIONS DES FICHIERS CSV

  Encodage UTF-8 avec BOM, séparateur « ; », fin de ligne CRLF : ils s'ouvrent
  directement dans un tableur réglé en français. Montants en euros avec une virgule
  décimale (« -12,30 »), taux de TVA en pourcentage (« 5,5 »), dates au format
  JJ/MM/AAAA et heures locales de la boutique ({timezone}). La colonne « seq » est le
  numéro de l'enregistrement dans la chaîne ; « empreinte » est son empreinte SHA-256.

CHAÎNE SIGNÉE (chaine.jsonl)

  Chaque ligne est un objet JSON : seq, record_type, number, key_id,
  canonical_version, canonical (octets canoniques, base64), prev_hash, hash,
  signature (base64). Les octets canoniques sont un JSON à clés triées, sans espaces,
  montants en centimes entiers. Pour chaque enregistrement :

    hash      = SHA-256( octets de prev_hash (32 octets) || octets canoniques )
    signature = ECDSA P-256 sur les 32 octets de hash (DER), par la clé key_id
    prev_hash = hash de l'enregistrement précédent

  Le premier prev_hash et le dernier hash figurent dans le manifeste (first_prev_hash,
  last_hash) : ils rattachent l'archive au journal et aux archives voisines.

VÉRIFIER L'ARCHIVE

  Avec Comptoir, sur n'importe quel poste :  comptoir archive verify FICHIER.zip
  Comptoir contrôle la signature du manifeste, l'empreinte de chaque fichier,
  l'empreinte, la signature et le chaînage de chaque enregistrement, la numérotation,
  les totaux des clôtures recalculés à partir des tickets, et que les fichiers CSV et
  JSON reproduisent exactement les données signées.

  Sans Comptoir, après extraction :
    sha256sum *            à comparer aux empreintes de manifest.json
    openssl dgst -sha256 -verify cles_publiques.pem -signature manifest.sig manifest.json

  La signature prouve que l'archive n'a pas été modifiée depuis sa création par le
  détenteur de la clé qu'elle contient. Comparez l'empreinte de cette clé (ci-dessus)
  à celle du journal de la boutique ou d'une archive précédente.
"""


def readme(info: dict[str, Any]) -> bytes:
    """LISEZMOI.txt: what the archive holds and how to check it, in French."""
    shop = info["shop"]
    place = " ".join(p for p in (shop.get("postcode", ""), shop.get("city", "")) if p)
    text = _README.format(
        what=info["label"].upper(),
        training=(
            "\nJOURNAL DE FORMATION — sans valeur fiscale\n"
            if info["ledger_kind"] == "training"
            else ""
        ),
        shop=", ".join(
            p
            for p in (shop.get("name"), shop.get("siret") and f"SIRET {shop['siret']}", place)
            if p
        ),
        ledger_id=info["ledger_id"],
        first_seq=info["first_seq"],
        last_seq=info["last_seq"],
        records=info["records"],
        created_at=info["created_at"].replace("T", " ").rstrip("Z"),
        version=info["software_version"],
        key_id=info["key_id"],
        fingerprint=info["key_fingerprint"],
        timezone=info["timezone"],
    )
    return text.replace("\n", "\r\n").encode("utf-8")
