"""RFC 3161 time-stamp tokens: the request sent to a time-stamping authority (TSA), and
the offline check of what it answers.

What is stamped is a SHA-256 digest the ledger already holds: a closure's record hash, or
an archive's manifest digest. The request carries that digest as its message imprint, so
the token names it exactly (``openssl ts -verify -digest <hash>`` agrees). A token is kept
as the TSA's whole answer (TimeStampResp, DER: a ``.tsr`` file) with the certificates the
TSA put in it, and is checked with nothing else: the imprint, the signature by the
certificate inside the token, that certificate's timeStamping purpose, and the chain the
token carries. Which TSA to trust is a judgement left to the reader: the check names it.

The ASN.1 is read and written by asn1crypto (``tsp``, ``cms``), the signatures checked by
cryptography.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.errors import LedgerError

MEDIA_QUERY = "application/timestamp-query"
MEDIA_REPLY = "application/timestamp-reply"
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_GRANTED = {"granted", "granted_with_mods"}


class _TimeStampResp(core.Sequence):
    """TimeStampResp as RFC 3161 § 2.4.2 has it: the token is absent from a refusal
    (asn1crypto's ``tsp.TimeStampResp`` requires it)."""

    _fields = [  # noqa: RUF012 (asn1crypto's declaration)
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class TokenInvalid(LedgerError):
    """A time-stamp token that does not prove what it should; ``message`` says why."""


@dataclass(frozen=True)
class Request:
    der: bytes
    nonce: int


@dataclass(frozen=True)
class Stamp:
    """What a sound token says."""

    digest: str  # hex, the message imprint
    gen_time: datetime  # UTC, as the TSA signed it
    tsa: str  # the signing certificate's subject, readable
    serial: int
    certificates: int  # how many certificates the token carries


def make_request(digest_hex: str) -> Request:
    """A TimeStampReq for a SHA-256 digest, asking for the TSA's certificate and carrying
    a nonce (so that an answer cannot be replayed from another request)."""
    nonce = secrets.randbits(63) | (1 << 62)
    req = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": bytes.fromhex(digest_hex),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return Request(req.dump(), nonce)


def check_response(data: bytes, digest_hex: str, *, nonce: int | None = None) -> Stamp:
    """Check a TSA's answer offline for ``digest_hex``; raises TokenInvalid (in French)."""
    try:
        resp = _TimeStampResp.load(data, strict=False)
        status = resp["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TokenInvalid("le jeton d'horodatage est illisible.", detail=repr(exc)) from exc
    if status not in _GRANTED:
        text = resp["status"]["status_string"].native or []
        said = f" ({' '.join(text)})" if text else ""
        raise TokenInvalid(f"l'autorité d'horodatage a refusé la demande{said}.")
    if isinstance(resp["time_stamp_token"], core.Void):
        raise TokenInvalid("la réponse de l'autorité d'horodatage ne contient pas de jeton.")
    try:
        return _check_token(resp["time_stamp_token"], digest_hex, nonce)
    except TokenInvalid:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TokenInvalid("le jeton d'horodatage est illisible.", detail=repr(exc)) from exc


def _check_token(token: cms.ContentInfo, digest_hex: str, nonce: int | None) -> Stamp:
    if token["content_type"].native != "signed_data":
        raise TokenInvalid("le jeton d'horodatage n'est pas une donnée signée.")
    signed = token["content"]
    signers = signed["signer_infos"]
    if len(signers) != 1:
        raise TokenInvalid("le jeton d'horodatage doit porter une seule signature.")
    signer = signers[0]
    # The bytes that were signed, taken as received before anything is read from them
    # (asn1crypto fills in default algorithm parameters as they are read, and would then
    # encode them again, slowly and perhaps differently).
    attrs = signer["signed_attrs"]
    signed_bytes = b"\x31" + attrs.dump()[1:] if attrs else b""  # a SET OF, stored [0] IMPLICIT
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise TokenInvalid("le jeton d'horodatage ne contient pas d'horodatage.")
    content: core.ParsableOctetString = encap["content"]
    info: tsp.TSTInfo = content.parsed
    imprint = info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm != "sha256" or imprint["hashed_message"].native.hex() != digest_hex.lower():
        raise TokenInvalid("le jeton d'horodatage porte sur une autre empreinte.")
    if nonce is not None and info["nonce"].native != nonce:
        raise TokenInvalid("le jeton d'horodatage répond à une autre demande (nonce).")
    certs = [
        _certificate(choice.chosen.dump())
        for choice in signed["certificates"] or []
        if choice.name == "certificate"
    ]
    cert = _signer_certificate(signer, certs)
    gen_time = info["gen_time"].native
    _check_signature(signer, signed_bytes, cert, content.contents)
    _check_purpose(cert)
    _check_chain(cert, certs, gen_time)
    return Stamp(
        digest=digest_hex.lower(),
        gen_time=gen_time,
        tsa=cert.subject.rfc4514_string(),
        serial=info["serial_number"].native,
        certificates=len(certs),
    )


def _signer_certificate(signer: cms.SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate:
    sid = signer["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.serial_number == wanted["serial_number"].native
                and cert.issuer.public_bytes() == wanted["issuer"].dump()
            ):
                return cert
        elif sid.name == "subject_key_identifier":
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == sid.chosen.native:
                return cert
    raise TokenInvalid(
        "le certificat de l'autorité d'horodatage manque dans le jeton : il ne peut pas être "
        "vérifié hors ligne."
    )


def _check_signature(
    signer: cms.SignerInfo, signed_bytes: bytes, cert: x509.Certificate, content: bytes
) -> None:
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TokenInvalid(f"algorithme d'empreinte inconnu dans le jeton ({digest_name}).")
    attrs = signer["signed_attrs"]
    if not attrs:
        raise TokenInvalid("le jeton d'horodatage n'a pas d'attributs signés.")
    found = {attr["type"].native: attr["values"][0] for attr in attrs}
    message_digest = found.get("message_digest")
    if message_digest is None or found.get("content_type") is None:
        raise TokenInvalid("le jeton d'horodatage n'a pas les attributs signés requis.")
    if message_digest.native != hashlib.new(digest_name, content).digest():
        raise TokenInvalid("le contenu du jeton d'horodatage a été modifié après sa signature.")
    _check_signing_certificate(found, cert)
    signature = signer["signature"].native
    algo = signer["signature_algorithm"].signature_algo
    chosen = _HASHES[digest_name]()
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_bytes, ec.ECDSA(chosen))
        elif isinstance(key, rsa.RSAPublicKey) and algo == "rsassa_pss":
            params = signer["signature_algorithm"]["parameters"]
            pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
            salt = params["salt_length"].native
            key.verify(signature, signed_bytes, padding.PSS(padding.MGF1(pss_hash), salt), pss_hash)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed_bytes, padding.PKCS1v15(), chosen)
        else:
            raise TokenInvalid("le jeton d'horodatage est signé par une clé d'un type inconnu.")
    except InvalidSignature as exc:
        raise TokenInvalid(
            "la signature du jeton d'horodatage est invalide : il a été modifié, ou n'a pas "
            "été signé par le certificat qu'il contient."
        ) from exc


def _check_signing_certificate(found: dict[str, Any], cert: x509.Certificate) -> None:
    """The ESS attribute binds the signature to one certificate (RFC 5035)."""
    der = cert.public_bytes(Encoding.DER)
    v2 = found.get("signing_certificate_v2")
    v1 = found.get("signing_certificate")
    if v2 is not None:
        first = v2["certs"][0]
        name = first["hash_algorithm"]["algorithm"].native
        expected = hashlib.new(name if name in _HASHES else "sha256", der).digest()
    elif v1 is not None:
        first = v1["certs"][0]
        expected = hashlib.sha1(der).digest()
    else:
        raise TokenInvalid("le jeton d'horodatage ne désigne pas son certificat (ESS).")
    if first["cert_hash"].native != expected:
        raise TokenInvalid("le jeton d'horodatage désigne un autre certificat que le sien.")


def _check_purpose(cert: x509.Certificate) -> None:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        raise TokenInvalid(
            "le certificat qui signe le jeton n'est pas celui d'une autorité d'horodatage "
            "(usage timeStamping absent)."
        )


def _check_chain(cert: x509.Certificate, certs: list[x509.Certificate], when: datetime) -> None:
    """Each certificate was valid when the token was made and is signed by the next one
    the token carries, up to the last it carries."""
    current, seen = cert, {cert.fingerprint(hashes.SHA256())}
    while True:
        if not current.not_valid_before_utc <= when <= current.not_valid_after_utc:
            raise TokenInvalid(
                "le certificat de l'autorité d'horodatage n'était pas valide à la date du jeton."
            )
        issuer = next(
            (c for c in certs if c.subject == current.issuer and c is not current),
            None,
        )
        if issuer is None or issuer.fingerprint(hashes.SHA256()) in seen:
            return
        if not _issued_by(current, issuer):
            raise TokenInvalid("la chaîne de certificats du jeton d'horodatage est rompue.")
        seen.add(issuer.fingerprint(hashes.SHA256()))
        current = issuer


# A verification reads hundreds of tokens from the same authority: its certificates are
# decoded, and each link of its chain checked, once.
@functools.lru_cache(maxsize=64)
def _certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


@functools.lru_cache(maxsize=64)
def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def token_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates a stored answer carries (for display)."""
    resp = _TimeStampResp.load(data, strict=False)
    signed = resp["time_stamp_token"]["content"]
    return [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in signed["certificates"] or []
        if choice.name == "certificate"
    ]
