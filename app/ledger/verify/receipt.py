"""Checking one printed document against a ledger: the code a receipt or an invoice carries.

Every receipt and invoice carries a **verification code** (text and QR code) naming its
ledger record. The auditor's test purchase keeps the paper; later, the code — typed or
scanned — says whether the ledger still holds exactly that record. A day rewritten after
the fact (even replayed through the application, re-signed, with a recomputed chain)
holds a different record at that number, or none: the code's hash no longer matches.

Format, version 1 (``C1``), in QR "alphanumeric" characters only (upper case, digits and
``-``), so that the QR code stays small::

    C1-LLLLLLLL-SEQ-HHHHHHHHHHHHHHHH-SSSSSSSS

- ``LLLLLLLL``: the ledger, base32 (RFC 4648, no padding) of the first 5 bytes of its
  UUID (40 bits);
- ``SEQ``: the record's position in the chain (``seq``), in decimal, as on the record;
- ``HHHHHHHHHHHHHHHH``: base32 of the first 10 bytes of the record's hash (80 bits);
- ``SSSSSSSS``: base32 of bytes −10 to −6 of its signature (40 bits), that is the first
  8 characters of the signature excerpt printed above it.

Reading is lenient: case, spaces and separators are ignored (the fixed widths find the
parts), and in the base32 parts the digits 0, 1 and 8, which base32 does not use, are
read as O, I and B.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.errors import InvalidInput
from app.ledger.chain import link_hash, load_public_der, signature_ok
from app.ledger.records import RecordType, document_number
from app.ledger.verify.sources import Reader, connect, ledger_id_of, read_errors
from app.values.money import format_cents

VERSION = "C1"
LEDGER_CHARS = 8
HASH_CHARS = 16
SIGNATURE_CHARS = 8
_BASE32 = re.compile(r"[A-Z2-7]+")
_LENIENT = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def ledger_part(ledger_id: str) -> str:
    return _b32(uuid.UUID(ledger_id).bytes[:5])


def hash_part(hash_hex: str) -> str:
    return _b32(bytes.fromhex(hash_hex)[:10])


def signature_part(signature: bytes) -> str:
    return _b32(signature[-10:-5])


def check_code(ledger_id: str, seq: int, hash_hex: str, signature: bytes) -> str:
    """The verification code printed on a document: see the module's docstring."""
    return "-".join(
        (VERSION, ledger_part(ledger_id), str(seq), hash_part(hash_hex), signature_part(signature))
    )


@dataclass(frozen=True)
class ReceiptCode:
    ledger: str
    seq: int
    hash: str
    signature: str

    def __str__(self) -> str:
        return "-".join((VERSION, self.ledger, str(self.seq), self.hash, self.signature))


def parse_check_code(text: str) -> ReceiptCode:
    """A code as typed or scanned; raises InvalidInput with a French message."""
    plain = "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())
    tail = HASH_CHARS + SIGNATURE_CHARS
    head = len(VERSION) + LEDGER_CHARS
    if not plain.startswith(VERSION) or len(plain) <= head + tail:
        raise InvalidInput(
            "Code de vérification illisible : il commence par « C1- » et se lit sous le "
            "QR code du document (ex. C1-ABCDEFGH-42-ABCDEFGHIJKLMNOP-ABCDEFGH)."
        )
    seq_text = plain[head:-tail]
    ledger = plain[len(VERSION) : head].translate(_LENIENT)
    digest = plain[-tail:-SIGNATURE_CHARS].translate(_LENIENT)
    signature = plain[-SIGNATURE_CHARS:].translate(_LENIENT)
    if not seq_text.isdigit() or not 1 <= int(seq_text) < 2**63:
        raise InvalidInput(
            f"Code de vérification illisible : le numéro d'enregistrement « {seq_text} » "
            "n'est pas un numéro possible."
        )
    if not all(_BASE32.fullmatch(part) for part in (ledger, digest, signature)):
        raise InvalidInput(
            "Code de vérification illisible : caractères inattendus (lettres A à Z et "
            "chiffres 2 à 7 seulement, hors numéro)."
        )
    return ReceiptCode(ledger, int(seq_text), digest, signature)


class Verdict(StrEnum):
    CONFIRMED = "confirmed"  # the ledger holds exactly this record
    ALTERED = "altered"  # the number exists, with another content or signature
    ABSENT = "absent"  # no record at that number
    OUTSIDE = "outside"  # an archive, or a purged ledger, that does not cover that number
    OTHER_LEDGER = "other_ledger"  # the code names another ledger


@dataclass(frozen=True)
class ReceiptCheck:
    code: ReceiptCode
    verdict: Verdict
    message: str
    document: str | None = None  # "Ticket T000042 du 2026-03-02, 14,10 €" when found

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.CONFIRMED


def _describe(canonical: bytes) -> str | None:
    try:
        envelope = json.loads(canonical)
        record_type = RecordType(envelope["type"])
        name = f"{record_type.label} {document_number(record_type, envelope['number'])}"
        text = f"{name} du {_french_date(envelope['date'])}"
        total = envelope["body"].get("total") if isinstance(envelope["body"], dict) else None
        return f"{text}, {format_cents(total)}" if isinstance(total, int) else text
    except (ValueError, KeyError, TypeError):
        return None


def _french_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _public_key(conn: Reader, key_id: str) -> Any:
    row = conn.execute("SELECT public_key FROM signing_key WHERE key_id = ?", (key_id,)).fetchone()
    if row is None:
        return None
    try:
        return load_public_der(bytes(row[0]))
    except ValueError:
        return None


def _differences(conn: Reader, code: ReceiptCode, row: tuple[Any, ...]) -> list[str]:
    """What keeps the record at ``code.seq`` from being the one the code names."""
    canonical, prev_hash, stored_hash, signature, key_id = row
    canonical, signature = bytes(canonical), bytes(signature)
    problems = []
    if hash_part(stored_hash) != code.hash:
        problems.append("son empreinte n'est pas celle du document")
    elif signature_part(signature) != code.signature:
        problems.append("sa signature n'est pas celle du document")
    if link_hash(prev_hash, canonical) != stored_hash:
        problems.append("son contenu ne correspond plus à son empreinte")
    public = _public_key(conn, key_id)
    if public is None or not signature_ok(public, stored_hash, signature):
        problems.append("sa signature n'est pas valide")
    if code.seq > 1:
        before = conn.execute("SELECT hash FROM journal WHERE seq = ?", (code.seq - 1,)).fetchone()
        if before is not None and before[0] != prev_hash:
            problems.append("il n'est plus chaîné à l'enregistrement qui le précède")
    return problems


def check_receipt_in(conn: Reader, code: ReceiptCode, *, archive: bool = False) -> ReceiptCheck:
    """The code checked against the records a reading connection sees: a live ledger, or
    an ``archive`` loaded as one (a number outside its period proves nothing then)."""
    ledger_id = ledger_id_of(conn)
    if ledger_id is None or ledger_part(ledger_id) != code.ledger:
        return ReceiptCheck(
            code,
            Verdict.OTHER_LEDGER,
            f"Ce document ne vient pas de ce journal : son code désigne le journal "
            f"{code.ledger}, celui-ci est le journal "
            f"{ledger_part(ledger_id) if ledger_id else 'sans identifiant'}.",
        )
    row = conn.execute(
        "SELECT canonical, prev_hash, hash, signature, key_id FROM journal WHERE seq = ?",
        (code.seq,),
    ).fetchone()
    if row is None:
        low, high = conn.execute("SELECT MIN(seq), MAX(seq) FROM journal").fetchone()
        if archive:
            covers = f"qui couvre les n°{low} à {high}" if low is not None else "vide"
            return ReceiptCheck(
                code,
                Verdict.OUTSIDE,
                f"L'enregistrement n°{code.seq} n'est pas dans cette archive, {covers} : "
                "vérifiez le document dans le journal ou dans l'archive de sa période.",
            )
        if low is not None and code.seq < low:
            return ReceiptCheck(
                code,
                Verdict.OUTSIDE,
                f"L'enregistrement n°{code.seq} n'est pas dans ce journal, qui commence au "
                f"n°{low} : vérifiez le document dans l'archive de sa période.",
            )
        end = f" : le journal s'arrête au n°{high}" if high is not None else ""
        return ReceiptCheck(
            code,
            Verdict.ABSENT,
            f"ABSENT — le journal ne contient pas l'enregistrement n°{code.seq} que ce "
            f"document atteste{end}. Si le code est bien celui du document, le journal a été "
            "tronqué ou ramené en arrière.",
        )
    document = _describe(bytes(row[0]))
    problems = _differences(conn, code, row)
    if problems:
        return ReceiptCheck(
            code,
            Verdict.ALTERED,
            f"MODIFIÉ — l'enregistrement n°{code.seq} du journal n'est pas celui que ce "
            f"document atteste : {' ; '.join(problems)}. Le journal a été réécrit après "
            f"l'émission du document. Il porte à ce numéro : {document or 'un contenu illisible'}.",
            document,
        )
    return ReceiptCheck(
        code,
        Verdict.CONFIRMED,
        f"CONFORME — le journal contient exactement l'enregistrement n°{code.seq} que ce "
        f"document atteste ({document or 'enregistrement'}) : même empreinte, même "
        "signature, valide.",
        document,
    )


def check_receipt(target: str, text: str, *, archive: bool = False) -> ReceiptCheck:
    """The code ``text`` (typed or scanned) checked against the ledger at ``target`` (a
    SQLite file or a PostgreSQL URL), or an ``archive`` loaded as a ledger file; raises
    InvalidInput on an unreadable code."""
    code = parse_check_code(text)
    conn = connect(target)
    try:
        return check_receipt_in(conn, code, archive=archive)
    except read_errors(conn) as exc:
        raise InvalidInput(
            "Ce fichier ne peut pas être lu comme un journal Comptoir.", detail=repr(exc)
        ) from exc
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput(
            "Le journal contient un enregistrement illisible.", detail=repr(exc)
        ) from exc
    finally:
        conn.close()
