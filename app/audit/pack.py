"""The tax-audit pack of a fiscal year: everything an auditor asks for, in one folder and
one ZIP, signed and journaled.

The pack is written into a hidden staging folder and renamed into place once complete,
so that a pack is either whole or absent. Its manifest lists the SHA-256 of every file
and is signed by the shop's key; producing it is an AUDIT_PACK event in the journal
(who, when, which year, the manifest's hash), so that a later pack can be compared with
it. A pack made from a training or demonstration ledger says so on every page and in its
name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import __version__
from app.audit import listings
from app.audit.conditions import CONDITIONS, publisher
from app.audit.readme import readme_text
from app.documents.audit import render_attestation_pdf, render_conditions_pdf
from app.documents.verification_report import (
    LEDGER_METHOD,
    ReportFinding,
    VerificationSummary,
    render_verification_pdf,
)
from app.errors import ComptoirError, InvalidInput
from app.ledger import chain
from app.ledger.archive.folder import archive_dir, list_archives
from app.ledger.closures import parse_year
from app.ledger.events import EventCode, log_event
from app.ledger.export.fec import write_fec
from app.ledger.export.fec_check import check_fec
from app.ledger.files import (
    private_dir,
    private_file,
    temporary_name,
    write_private_bytes,
)
from app.ledger.models import JournalRecord, SigningKey
from app.ledger.operators import Permission, require
from app.ledger.service import record_verification
from app.ledger.settings import FiscalSettings, fiscal_settings
from app.ledger.store import Ledger, utc_now
from app.ledger.training import TRAINING_NOTICE
from app.ledger.verify.engine import Report, verify_ledger

DEMO_NOTICE = "DÉMONSTRATION — sans valeur fiscale"
MARKS = {"training": TRAINING_NOTICE, "demo": DEMO_NOTICE}
ARCHIVES_COPY_LIMIT = 200 * 1024 * 1024
"""Archives larger than this in total are listed with their hashes instead of copied."""

PACKS_FOLDER = "controles"
MANIFEST = "MANIFESTE.json"
SIGNATURE = "MANIFESTE.sig"
PUBLIC_KEY = "cle-publique.pem"
STEPS = 8

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PackFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class AuditPack:
    """What was written, and what the checks inside it found."""

    year: int
    folder: Path
    zip_path: Path
    files: tuple[PackFile, ...]
    manifest_sha256: str
    verified: bool
    verification: str
    fec: str
    mark: str | None

    def summary(self) -> str:
        lines = [
            f"Dossier de contrôle fiscal de l'exercice {self.year} : {self.folder}",
            f"Archive ZIP : {self.zip_path}",
            f"{len(self.files)} fichiers ; empreinte du manifeste {self.manifest_sha256[:16]}…",
            f"Vérification : {self.verification}",
            f"FEC : {self.fec}",
        ]
        if self.mark:
            lines.insert(0, self.mark.upper())
        return "\n".join(lines)


@dataclass(frozen=True)
class _Pack:
    """What every part of the pack is written from."""

    ledger: Ledger
    folder: Path
    year: int
    shop: FiscalSettings
    mark: str | None
    operator: str


def default_pack_dir(ledger: Ledger) -> Path:
    """``<ledger stem>-controles`` beside the ledger file."""
    path = ledger.require_file("Le dossier de contrôle se prépare depuis le poste de la caisse.")
    return path.parent / f"{path.stem}-{PACKS_FOLDER}"


def _records_in_year(session: Session, year: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(JournalRecord)
            .where(
                JournalRecord.business_date >= f"{year:04d}-01-01",
                JournalRecord.business_date <= f"{year:04d}-12-31",
            )
        )
        or 0
    )


def _write(folder: Path, name: str, data: bytes) -> None:
    path = folder / name
    private_dir(path.parent)
    write_private_bytes(path, data)


def _copy(source: Path, target: Path) -> None:
    private_dir(target.parent)
    shutil.copyfile(source, target)
    private_file(target)


def build_audit_pack(
    ledger: Ledger,
    year: int | str,
    out_dir: Path | None = None,
    *,
    operator: str,
    progress: Progress | None = None,
) -> AuditPack:
    """Write the pack of ``year`` into ``out_dir`` (by default beside the ledger) and
    journal it. Refused on a computer without the shop's key: the pack is signed."""
    year_text = parse_year(year)
    number = int(year_text)
    if ledger.signer is None or ledger.readonly:
        raise ComptoirError(
            "Le dossier de contrôle est signé par la clé de l'entreprise : préparez-le sur "
            "le poste de la caisse."
        )
    with ledger.reader() as session:
        require(session, operator, Permission.READ_ALL)
        if not _records_in_year(session, number):
            raise InvalidInput(
                f"Le journal ne contient aucun enregistrement de l'exercice {number}."
            )
        shop = fiscal_settings(session)
    mark = MARKS.get(ledger.kind)
    target = private_dir(Path(out_dir) if out_dir else default_pack_dir(ledger))
    stamp = utc_now().strftime("%Y%m%d-%H%M%S")
    prefix = {"training": "FORMATION-", "demo": "DEMO-"}.get(ledger.kind, "")
    folder = target / f"{prefix}controle-fiscal-{number}-{shop.siren or 'sans-siren'}-{stamp}"
    # A pack interrupted by a crash leaves a staging folder the next start removes.
    staging = temporary_name(folder)
    shutil.rmtree(staging, ignore_errors=True)
    private_dir(staging)
    step = _Steps(progress)
    pack = _Pack(ledger, staging, number, shop, mark, operator)
    try:
        report = _write_contents(pack, step)
        step("Signature du dossier")
        manifest_sha, files = _sign(pack)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    step("Archive ZIP")
    zip_path = _zip(folder)
    with ledger.transaction() as session:
        log_event(
            session,
            EventCode.AUDIT_PACK,
            operator=operator,
            year=number,
            folder=folder.name,
            files=len(files),
            manifest_sha256=manifest_sha,
            verified=report[0].ok,
        )
    return AuditPack(
        year=number,
        folder=folder,
        zip_path=zip_path,
        files=tuple(files),
        manifest_sha256=manifest_sha,
        verified=report[0].ok,
        verification=report[0].summary(),
        fec=report[1],
        mark=mark,
    )


class _Steps:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def __call__(self, label: str) -> None:
        if self.progress is not None:
            self.progress(self.done, STEPS, label)
        self.done += 1


def _write_contents(pack: _Pack, step: _Steps) -> tuple[Report, str]:
    ledger, folder, year, shop, mark = pack.ledger, pack.folder, pack.year, pack.shop, pack.mark
    operator = pack.operator
    step("Vérification du journal")
    report = verify_ledger(ledger.target)
    with ledger.transaction() as session:
        record_verification(session, report, operator=operator, scope="audit", year=year)
    _verification_files(pack, report)
    step("Attestation et description")
    pub = publisher()
    with ledger.reader() as session:
        first_use = listings.first_use(session, ledger.timezone)
    _write(
        folder,
        "01-attestation-editeur.pdf",
        render_attestation_pdf(pub, shop, first_use=first_use, year=year, watermark=mark),
    )
    _write(
        folder,
        "02-description-conditions.pdf",
        render_conditions_pdf(CONDITIONS, shop, pub, year=year, watermark=mark),
    )
    step("Clôtures de l'exercice")
    with ledger.reader() as session:
        for file_name, data in listings.closure_files(session, year, shop, ledger.timezone, mark):
            _write(folder, file_name, data)
        step("Journal des événements techniques")
        for file_name, data in listings.event_files(session, year, shop, ledger.timezone, mark):
            _write(folder, file_name, data)
        archives = [a for a in list_archives(session) if a.period.startswith(str(year))]
    step("Archives signées")
    _archive_files(pack, archives)
    step("FEC")
    fec = _fec_files(pack)
    _write(
        folder,
        "LISEZMOI.txt",
        readme_text(
            year=year,
            shop=shop,
            mark=mark,
            verified=report.ok,
            fec=fec,
            archives=[a.file_name for a in archives],
            version=__version__,
        ).encode("utf-8"),
    )
    return report, fec


def _verification_files(pack: _Pack, report: Report) -> None:
    ledger, folder, shop, mark = pack.ledger, pack.folder, pack.shop, pack.mark
    with ledger.reader() as session:
        keys = [
            (key_id, seq, chain.fingerprint_of(chain.load_public_der(der)))
            for key_id, seq, der in session.execute(
                select(
                    SigningKey.key_id, SigningKey.registered_seq, SigningKey.public_key
                ).order_by(SigningKey.registered_seq)
            )
        ]
    summary = VerificationSummary(
        source=f"Journal {ledger.display_name}",
        verdict=report.summary(),
        ok=report.ok,
        cancelled=report.cancelled,
        records=report.records,
        operator=pack.operator,
        checked_at=utc_now().astimezone(ZoneInfo(ledger.timezone)),
        findings=tuple(ReportFinding(f.seq, "journal", f.message) for f in report.findings),
        notices=tuple(report.notices),
        shop_name=shop.name,
        details=tuple(
            (f"Clé {key_id} (enr. n°{seq})", fingerprint) for key_id, seq, fingerprint in keys
        ),
        method=LEDGER_METHOD,
        watermark=mark,
    )
    _write(folder, "03-verification.pdf", render_verification_pdf(summary))
    result: dict[str, Any] = {
        "ok": report.ok,
        "records": report.records,
        "closures": report.closures,
        "last_seq": report.last_seq,
        "last_hash": report.last_hash,
        "summary": report.summary(),
        "findings": [{"seq": f.seq, "rule": f.rule, "message": f.message} for f in report.findings],
        "notices": list(report.notices),
        "keys": [{"key_id": k, "registered_seq": s, "fingerprint": f} for k, s, f in keys],
        "software": f"Comptoir {__version__}",
    }
    if mark:
        result["mention"] = mark
    _write(folder, "03-verification.json", _json(result))


def _archive_files(pack: _Pack, archives: Sequence[Any]) -> None:
    source, folder = archive_dir(pack.ledger), pack.folder
    present = [(a, source / a.file_name) for a in archives]
    sizes = sum(p.stat().st_size for _a, p in present if p.is_file())
    copy = sizes <= ARCHIVES_COPY_LIMIT
    rows = [["Période", "Fichier", "Empreinte SHA-256 du fichier", "Enregistrements", "Présent"]]
    for entry, path in present:
        digest = _file_sha(path) if path.is_file() else ""
        rows.append(
            [
                entry.period,
                entry.file_name,
                digest,
                f"n°{entry.first_seq} à n°{entry.last_seq}",
                "oui" if digest else "NON",
            ]
        )
        if copy and digest:
            _copy(path, folder / "06-archives" / entry.file_name)
    _write(folder, "06-archives/liste.csv", _csv(rows))
    _write(folder, "06-archives/comment-verifier.txt", listings.archive_howto(copy).encode())


def _fec_files(pack: _Pack) -> str:
    ledger, folder = pack.ledger, pack.folder
    if ledger.kind == "training":
        note = "Le FEC ne se produit pas depuis un journal de formation."
        _write(folder, "07-FEC/absent.txt", (note + "\n").encode())
        return note
    fec_dir = private_dir(folder / "07-FEC")
    try:
        path = write_fec(ledger, pack.year, fec_dir, operator=pack.operator)
    except InvalidInput as exc:  # e.g. no SIREN yet: the rest of the pack still serves
        note = f"FEC non produit : {exc.message}"
        _write(folder, "07-FEC/absent.txt", (note + "\n").encode())
        return note
    private_file(path)
    check = check_fec(path)
    lines = [check.summary(), ""]
    lines += [f"ligne {f.line} — {f.rule} : {f.message}" for f in check.findings]
    _write(folder, "07-FEC/controle-A47A-1.txt", ("\r\n".join(lines) + "\r\n").encode())
    return check.summary()


def _sign(pack: _Pack) -> tuple[str, list[PackFile]]:
    ledger, folder, shop = pack.ledger, pack.folder, pack.shop
    assert ledger.signer is not None
    pem = ledger.signer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(folder, PUBLIC_KEY, pem)
    files = [
        PackFile(path.relative_to(folder).as_posix(), _file_sha(path), path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    manifest = {
        "pack": "controle-fiscal",
        "year": pack.year,
        "siret": shop.siret,
        "shop": shop.name,
        "ledger_id": ledger.ledger_id,
        "kind": ledger.kind,
        "created_at": utc_now().isoformat(timespec="seconds"),
        "operator": pack.operator,
        "software": f"Comptoir {__version__}",
        "key_id": ledger.signer_key_id,
        "files": {f.name: f.sha256 for f in files},
    }
    if pack.mark:
        manifest["mention"] = pack.mark
    data = _json(manifest)
    _write(folder, MANIFEST, data)
    digest = hashlib.sha256(data).hexdigest()
    _write(folder, SIGNATURE, chain.sign_hash(ledger.signer, digest))
    return digest, files


def verify_pack(folder: Path) -> list[str]:
    """What is wrong with a pack folder: files changed, missing or added, a manifest
    whose signature does not hold. An empty list: the pack is as it was signed."""
    problems: list[str] = []
    try:
        data = (folder / MANIFEST).read_bytes()
        manifest = json.loads(data)
        signature = (folder / SIGNATURE).read_bytes()
        public = serialization.load_pem_public_key((folder / PUBLIC_KEY).read_bytes())
    except (OSError, ValueError) as exc:
        return [f"Manifeste, signature ou clé publique illisible ({exc})."]
    if not isinstance(public, ec.EllipticCurvePublicKey) and chain.signature_ok(
        public, hashlib.sha256(data).hexdigest(), signature
    ):
        problems.append("La signature du manifeste ne correspond pas.")
    listed = manifest.get("files", {})
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"Fichier absent : {name}.")
        elif _file_sha(path) != digest:
            problems.append(f"Fichier modifié : {name}.")
    extra = (
        {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        - set(listed)
        - {MANIFEST, SIGNATURE}
    )
    problems += [f"Fichier ajouté : {name}." for name in sorted(extra)]
    return problems


def _zip(folder: Path) -> Path:
    final = folder.with_suffix(".zip")
    temporary = temporary_name(final)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        private_file(temporary)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return final


def _file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
