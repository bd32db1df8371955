"""Signing key lifecycle.

The private key lives in the OS keyring. Where no keyring backend works (a headless
server, CI) it falls back to a PEM file in the data folder, readable by its owner only,
and says so loudly in the log.
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

log = logging.getLogger(__name__)
KEYRING_SERVICE = "Comptoir"


@dataclass(frozen=True)
class StoredKey:
    private_key: ec.EllipticCurvePrivateKey
    storage: str  # "keyring" or the path of the fallback file


def _entry(ledger_id: str) -> str:
    return f"ledger-signing-key:{ledger_id}"


def _key_file(ledger_id: str) -> Path:
    return config.data_dir() / "keys" / f"{ledger_id}.pem"


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
    """Create a new P-256 key and store it (keyring first, file otherwise)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = _to_pem(key)
    try:
        keyring.set_password(KEYRING_SERVICE, _entry(ledger_id), pem)
        if keyring.get_password(KEYRING_SERVICE, _entry(ledger_id)) == pem:
            return StoredKey(key, "keyring")
    except Exception as exc:
        log.debug("keyring unavailable: %s", exc)
    path = _key_file(ledger_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)
    log.warning(
        "Aucun trousseau de clés système n'est disponible : la clé de signature du journal "
        "fiscal est conservée dans le fichier %s (lisible par son seul propriétaire). "
        "Protégez ce fichier et sauvegardez-le.",
        path,
    )
    return StoredKey(key, str(path))
