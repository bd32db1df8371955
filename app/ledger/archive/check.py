"""Verification of a period archive with nothing but the file.

The manifest's signature is checked with the public key the archive carries, every file
against its digest in the manifest, every record of the chain file (hash, signature by
the key in force, link, numbering, time order), the closures against the tickets and
inner closures found in the archive, and every readable file (CSV, JSON) is rendered
again from the signed records and compared byte for byte.

An archive proves that it is unchanged since the holder of its key wrote it. Whether that
key is the shop's is a comparison an auditor makes: the report gives its fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.ledger import chain
from app.ledger.archive.chain_check import ChainCheck, Progress
from app.ledger.archive.format import (
    CHAIN,
    FORMAT_ID,
    KEYS,
    MANIFEST,
    READABLE_NAMES,
    SIGNATURE,
    SIGNED_FILES,
    pem_blocks,
)
from app.ledger.archive.readable_copy import READ_ERRORS
from app.ledger.archive.timestamp import TOKEN_NAME, check_archive_token
from app.ledger.archive.verdict import ArchiveFinding, ArchiveReport, of_period, period_label

__all__ = [
    "ArchiveFinding",
    "ArchiveReport",
    "Progress",
    "of_period",
    "period_label",
    "read_keys",
    "verify_archive",
]

_MAX_READ = 64 << 20  # members read whole (manifest, keys, README, signature)


def read_keys(data: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """The P-256 public keys of a PEM file, by key id; unreadable blocks are skipped."""
    keys = {}
    for block in pem_blocks(data):
        try:
            key = serialization.load_pem_public_key(block)
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                continue
        except ValueError:
            continue
        keys[chain.key_id_of(key)] = key
    return keys


# -- the verifier -------------------------------------------------------------------------------
class _Verifier:
    def __init__(
        self,
        archive: zipfile.ZipFile,
        report: ArchiveReport,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        self.archive, self.report = archive, report
        self.progress, self.cancelled = progress, cancelled
        self.names: set[str] = set()
        self.digests: dict[str, str] = {}
        self.keys: dict[str, ec.EllipticCurvePublicKey] = {}

    def fail(self, file: str | None, seq: int | None, message: str) -> None:
        self.report.findings.append(ArchiveFinding(file, seq, message))

    def _read(self, name: str) -> bytes | None:
        if name not in self.names:
            return None
        if self.archive.getinfo(name).file_size > _MAX_READ:
            self.fail(name, None, f"Le fichier {name} est anormalement volumineux.")
            return None
        try:
            return self.archive.read(name)
        except READ_ERRORS:
            self.fail(name, None, f"Le fichier {name} est endommagé : il ne peut pas être lu.")
            return None

    def check_digest(self, name: str, actual: str) -> None:
        expected = self.digests.get(name)
        if expected is not None and expected != actual:
            self.fail(
                name,
                None,
                f"Le fichier {name} a été modifié : son empreinte ne correspond pas au manifeste.",
            )

    def run(self) -> None:
        listed = self.archive.namelist()
        self.names = set(listed)
        for name, count in sorted(Counter(listed).items()):
            if count > 1:
                self.fail(name, None, f"Le fichier {name} figure {count} fois dans l'archive.")
        data = self._read(MANIFEST)
        if data is None:
            self.fail(
                MANIFEST, None, "Le manifeste (manifest.json) manque : rien ne peut être vérifié."
            )
            return
        try:
            manifest = json.loads(data)
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_ID:
            self.fail(
                MANIFEST,
                None,
                "Le manifeste est illisible ou d'un format inconnu : ce "
                "fichier n'est pas une archive Comptoir.",
            )
            return
        self.report.manifest = manifest
        self._files(manifest)
        self._keys(manifest)
        self._signature(manifest, data)
        problems, self.report.time_stamp = check_archive_token(self.archive, data, manifest)
        for name, seq, problem in problems:
            self.fail(name, seq, problem)
        for name in SIGNED_FILES:
            if name != CHAIN:
                content = self._read(name)
                if content is not None:
                    self.check_digest(name, hashlib.sha256(content).hexdigest())
        if CHAIN in self.names:
            ChainCheck(self, manifest).run()

    def _files(self, manifest: dict[str, Any]) -> None:
        files = manifest.get("files")
        if not isinstance(files, dict):
            self.fail(MANIFEST, None, "Le manifeste ne donne pas l'empreinte des fichiers.")
            files = {}
        self.digests = {k: v for k, v in files.items() if isinstance(v, str)}
        required = {*files, *SIGNED_FILES, *READABLE_NAMES}
        for name in sorted(required - self.names):
            self.fail(name, None, f"Le fichier {name} manque dans l'archive.")
        for name in sorted(self.names - set(files) - {MANIFEST, SIGNATURE, TOKEN_NAME}):
            self.fail(
                name,
                None,
                f"Le fichier {name} ne figure pas au manifeste : il a été ajouté ou remplacé "
                "après la création de l'archive.",
            )

    def _keys(self, manifest: dict[str, Any]) -> None:
        data = self._read(KEYS)
        if data is None:
            return
        self.keys = read_keys(data)
        if len(self.keys) != len(pem_blocks(data)):
            self.fail(KEYS, None, f"Le fichier {KEYS} contient une clé illisible ou en double.")
        entries = manifest.get("keys")
        for entry in entries if isinstance(entries, list) else []:
            key_id = entry.get("key_id") if isinstance(entry, dict) else None
            if not isinstance(key_id, str) or key_id not in self.keys:
                self.fail(
                    KEYS,
                    None,
                    f"La clé publique {key_id} annoncée par le manifeste manque dans {KEYS}.",
                )

    def _signature(self, manifest: dict[str, Any], data: bytes) -> None:
        key_id = manifest.get("key_id")
        signature = self._read(SIGNATURE)
        key = self.keys.get(key_id) if isinstance(key_id, str) else None
        if signature is None:
            self.fail(
                SIGNATURE,
                None,
                "La signature du manifeste (manifest.sig) manque : "
                "l'archive n'est pas authentifiée.",
            )
        elif key is None:
            self.fail(
                KEYS, None, f"La clé publique {key_id} qui signe le manifeste manque dans {KEYS}."
            )
        elif not chain.signature_ok(key, hashlib.sha256(data).hexdigest(), signature):
            self.fail(
                MANIFEST,
                None,
                "La signature du manifeste est invalide : le manifeste a été modifié après sa "
                "signature, ou n'a pas été signé par la clé indiquée.",
            )
        else:
            self.report.key_fingerprint = chain.fingerprint_of(key)


def verify_archive(
    path: Path | str,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ArchiveReport:
    """Verify an archive file on its own; reads it, never writes anything."""
    report = ArchiveReport(findings=[], manifest={}, records=0, cancelled=False)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        report.findings.append(
            ArchiveFinding(None, None, f"Ce fichier n'est pas une archive ZIP lisible ({exc}).")
        )
        return report
    with archive:
        _Verifier(archive, report, progress, cancelled).run()
    if report.cancelled:
        return report
    report.findings.sort(key=lambda f: (f.seq is not None, f.seq or 0))
    if not report.findings and not report.manifest:
        report.findings.append(ArchiveFinding(None, None, "L'archive est vide."))
    return report
