"""Hashing and signing of chain links."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

GENESIS_PREV_HASH = "0" * 64
_ALGORITHM = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def link_hash(prev_hash: str, canonical: bytes) -> str:
    """SHA-256 over the previous hash (32 raw bytes) followed by the canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def sign_hash(private_key: ec.EllipticCurvePrivateKey, hash_hex: str) -> bytes:
    """ECDSA P-256 signature (DER) of the 32-byte link hash."""
    return private_key.sign(bytes.fromhex(hash_hex), _ALGORITHM)


def signature_ok(public_key: ec.EllipticCurvePublicKey, hash_hex: str, signature: bytes) -> bool:
    try:
        public_key.verify(signature, bytes.fromhex(hash_hex), _ALGORITHM)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_der(der: bytes) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 public key")
    return key


def key_id_of(public_key: ec.EllipticCurvePublicKey) -> str:
    """Short fingerprint: first 16 hex digits of SHA-256 over the DER public key."""
    return hashlib.sha256(public_der(public_key)).hexdigest()[:16]


def fingerprint_of(public_key: ec.EllipticCurvePublicKey) -> str:
    """Full fingerprint, grouped for reading aloud or printing on a Z report."""
    digest = hashlib.sha256(public_der(public_key)).hexdigest().upper()
    return ":".join(digest[i : i + 4] for i in range(0, 64, 4))
