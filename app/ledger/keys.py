"""Signing key lifecycle.

The private key lives in the OS keyring. Where no keyring backend works (a headless
server, CI) it falls back to a PEM file in the data folder, readable by its owner only,
and says so loudly in the log.

A stored key is never overwritten nor deleted: ``create_key`` refuses a ledger that
already has one, and ``install_key`` (a key imported from a copy, a journaled key change)
first sets the previous key aside in ``keys/<ledger id>.<key id>.pem``. Opening a ledger
never calls either (see ``Ledger._check_key``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app import config
from app.errors import InvalidInput
from app.ledger import chain

log = logging.getLogger(__name__)
KEYRING_SERVICE = "Comptoir"
EXPORT_MAGIC = "Comptoir-Cle-De-Signature: 1"
MIN_PASSPHRASE_CHARS = 8


@dataclass(frozen=True)
class StoredKey:
    private_key: ec.EllipticCurvePrivateKey
    storage: str  # "keyring" or the path of the fallback file

    @property
    def key_id(self) -> str:
        return chain.key_id_of(self.private_key.public_key())


def _entry(ledger_id: str) -> str:
    return f"ledger-signing-key:{ledger_id}"


def keys_dir() -> Path:
    return config.data_dir() / "keys"


def _key_file(ledger_id: str) -> Path:
    return keys_dir() / f"{ledger_id}.pem"


def _to_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _from_pem(text: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("stored signing key is not an EC key")
    return key


def _keyring_get(ledger_id: str) -> str | Exception | None:
    try:
        return keyring.get_password(KEYRING_SERVICE, _entry(ledger_id))
    except Exception as exc:  # any backend failure means: no usable keyring
        return exc


def load_key(ledger_id: str) -> StoredKey | None:
    """The ledger's private key from the keyring or the fallback file, if any."""
    found = _keyring_get(ledger_id)
    if isinstance(found, str):
        return StoredKey(_from_pem(found), "keyring")
    path = _key_file(ledger_id)
    if path.exists():
        return StoredKey(_from_pem(path.read_text("ascii")), str(path))
    return None


def create_key(ledger_id: str) -> StoredKey:
    """Create a new P-256 key for a new ledger and store it (keyring first, file
    otherwise). Refuses a ledger that already has a stored key: keys are never replaced
    behind the shop's back."""
    if load_key(ledger_id) is not None:
        raise RuntimeError(f"a signing key is already stored for ledger {ledger_id}")
    return _store(ledger_id, ec.generate_private_key(ec.SECP256R1()))


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def install_key(ledger_id: str, key: ec.EllipticCurvePrivateKey) -> StoredKey:
    """Make ``key`` the ledger's stored signing key. A different key stored until now is
    first kept aside (``keys/<ledger id>.<key id>.pem``), never lost."""
    current = load_key(ledger_id)
    if current is not None:
        if current.key_id == chain.key_id_of(key.public_key()):
            return current
        set_aside(ledger_id, current.private_key)
    return _store(ledger_id, key)


def set_aside(ledger_id: str, key: ec.EllipticCurvePrivateKey) -> Path:
    """Keep a copy of ``key`` under a name of its own (never overwritten)."""
    path = keys_dir() / f"{ledger_id}.{chain.key_id_of(key.public_key())}.pem"
    if not path.exists():
        _write_private(path, _to_pem(key))
    return path


def _store(ledger_id: str, key: ec.EllipticCurvePrivateKey) -> StoredKey:
    pem = _to_pem(key)
    try:
        keyring.set_password(KEYRING_SERVICE, _entry(ledger_id), pem)
        if keyring.get_password(KEYRING_SERVICE, _entry(ledger_id)) == pem:
            return StoredKey(key, "keyring")
    except Exception as exc:
        log.debug("keyring unavailable: %s", exc)
    path = _key_file(ledger_id)
    _write_private(path, pem)
    log.warning(
        "Aucun trousseau de clés système n'est disponible : la clé de signature du journal "
        "fiscal est conservée dans le fichier %s (lisible par son seul propriétaire). "
        "Protégez ce fichier et sauvegardez-le.",
        path,
    )
    return StoredKey(key, str(path))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    write_private(path, text.encode("ascii"))


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, whole or not at all."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# -- a copy of the key, protected by a passphrase ---------------------------------------
def export_bytes(ledger_id: str, key: ec.EllipticCurvePrivateKey, passphrase: str) -> bytes:
    """The key, encrypted with ``passphrase`` (PKCS#8, PBKDF2 + AES-256), under a short
    header naming its ledger and key id."""
    _check_passphrase(passphrase)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    header = f"{EXPORT_MAGIC}\nJournal: {ledger_id}\nCle: {chain.key_id_of(key.public_key())}\n"
    return header.encode("ascii") + pem


def read_export(data: bytes, passphrase: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """(ledger id, private key) from an exported copy, or InvalidInput in French."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    head, _, pem = text.partition("-----BEGIN")
    lines = dict(line.split(": ", 1) for line in head.splitlines()[1:] if ": " in line)
    if not head.startswith(EXPORT_MAGIC) or "Journal" not in lines or not pem:
        raise InvalidInput("Ce fichier n'est pas une copie de clé de signature Comptoir.")
    try:
        key = serialization.load_pem_private_key(
            ("-----BEGIN" + pem).encode("ascii"), password=passphrase.encode("utf-8")
        )
    except (ValueError, TypeError):
        raise InvalidInput(
            "Phrase de passe incorrecte, ou copie de clé abîmée : la clé n'a pas pu être lue."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("Ce fichier n'est pas une copie de clé de signature Comptoir.")
    return lines["Journal"].strip(), key


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidInput(
            f"La phrase de passe doit compter au moins {MIN_PASSPHRASE_CHARS} caractères."
        )
