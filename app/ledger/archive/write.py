"""Signed period archives written (listed in ``folder``, reopened in ``reopen``, verified
in ``check``).

A closed fiscal year (automatically, after its closure) or a closed month (on demand) is
written to one ZIP file holding the period's records in readable form (CSV, JSON), the
exact chained and signed bytes needed to verify them again, the public keys, a manifest
of SHA-256 digests and a signature of the manifest by the ledger's key. The archive is a
further anchor kept outside the database; writing it is itself an ARCHIVE record.

The range archived runs from the first record dated in the period to the period's
closure record, both included: it is contiguous, so the chain can be checked link by
link from the first record's ``prev_hash`` to the closure's hash. Records made at the
start of a period before the previous period's closure (a Z made the next morning) fall
into both archives; each archive stands on its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import __version__
from app.errors import ComptoirError, InvalidInput
from app.ledger import canonical, chain
from app.ledger.archive.folder import ArchiveError, archive_dir
from app.ledger.archive.format import (
    CHAIN,
    FORMAT_ID,
    KEYS,
    MANIFEST,
    README,
    SIGNATURE,
    ChainRecord,
    keys_pem,
    readable_files,
    readme,
)
from app.ledger.archive.timestamp import closure_tokens
from app.ledger.archive.verdict import of_period, period_label
from app.ledger.closures import Closure, get_closure
from app.ledger.files import create_private, private_dir, staging_prefix, temporary_name
from app.ledger.journal import Recorded, append
from app.ledger.models import JournalRecord, LedgerMeta, SigningKey
from app.ledger.operators import Permission, require
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger

__all__ = [
    "ArchiveResult",
    "archive_after_closure",
    "create_archive",
]

log = logging.getLogger(__name__)

_SHOP_FIELDS = ("name", "legal_form", "siret", "vat_number", "address", "postcode", "city")
_FILE_PREFIX = {"real": "archive", "training": "archive-formation", "demo": "archive-demo"}


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    period: str
    first_seq: int
    last_seq: int
    records: int
    recorded: Recorded


def _closure_kind(period: str) -> tuple[RecordType, str]:
    """The closure an archive of ``period`` ends with, and the period normalised."""
    text = str(period).strip()
    if not text.isascii():
        raise InvalidInput(f"Période invalide : {text!r} (attendu AAAA ou AAAA-MM).")
    try:
        if len(text) == 4 and text.isdigit():
            return RecordType.YEAR_CLOSURE, text
        year, month = text.split("-")
        if len(year) == 4 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
            return RecordType.MONTH_CLOSURE, f"{year}-{int(month):02d}"
    except ValueError:
        pass
    raise InvalidInput(f"Période invalide : {text!r} (attendu AAAA ou AAAA-MM).")


# -- writing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """What is archived, read in one snapshot of the ledger."""

    period: str
    closure: Closure
    first_seq: int
    first_prev_hash: str
    keys: list[tuple[str, int | None, bytes]]  # key_id, registered_seq, DER; signer first
    shop: dict[str, str]
    ledger_created_at: str


def create_archive(
    ledger: Ledger, period: str, *, operator: str, out_dir: Path | None = None
) -> ArchiveResult:
    """Write the archive of a closed year ("2026") or month ("2026-03") and journal it.

    The file is complete (written under a temporary name, then renamed) before the
    ARCHIVE record is appended; if the record cannot be appended the file is removed,
    so that every archive on disk is one the ledger knows about.
    """
    kind, period = _closure_kind(period)
    if ledger.readonly or ledger.signer is None:
        raise ArchiveError("Archivage impossible : le journal est ouvert en lecture seule.")
    target_dir = Path(out_dir) if out_dir is not None else archive_dir(ledger)
    with ledger.reader() as session:  # one snapshot for the plan and every file
        require(session, operator, Permission.CLOSE_PERIOD)
        plan = _plan(session, ledger, kind, period)
        written = _write_archive(session, ledger, plan, target_dir)
    try:
        with ledger.transaction() as session:
            recorded = append(session, RecordType.ARCHIVE, written.body, operator=operator)
    except BaseException:
        written.path.unlink(missing_ok=True)
        raise
    log.info("archive of %s written to %s", period, written.path)
    return ArchiveResult(
        written.path, period, plan.first_seq, plan.closure.seq, written.records, recorded
    )


@dataclass(frozen=True)
class _Written:
    path: Path
    records: int
    body: dict[str, Any]  # of the ARCHIVE record


def _write_archive(session: Session, ledger: Ledger, plan: _Plan, target_dir: Path) -> _Written:
    now = ledger.clock()
    created_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = now.astimezone(ZoneInfo(ledger.timezone))
    prefix = _FILE_PREFIX.get(ledger.kind, "archive")
    try:
        if not target_dir.exists():
            private_dir(target_dir)  # a folder made here; a chosen one keeps its mode
        target = _free_name(target_dir, f"{prefix}-{plan.period}-{local:%Y%m%d-%H%M%S}")
        # 0700, named after this process: a crash leaves it to the next opening to remove.
        staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=target_dir))
        try:
            digests, counts = _stage(session, plan, staging, ledger.timezone)
            tokens = closure_tokens(session, plan.first_seq, plan.closure.seq)
            digests.update({name: _sha(data) for name, data in tokens.items()})
            info = _manifest_info(ledger, plan, created_at, counts)
            extra = {**_signed_files(ledger, plan, info, digests), **tokens}
            _write_zip(target, staging, digests, extra, local.timetuple()[:6])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise ArchiveError(
            f"L'archive {of_period(plan.period)} n'a pas pu être écrite dans {target_dir} : "
            f"{exc.strerror or exc}.",
            detail=repr(exc),
        ) from exc
    records = sum(counts.values())
    body = {
        "period": plan.period,
        "kind": info["period_kind"],
        "file": target.name,
        "manifest_sha256": hashlib.sha256(extra[MANIFEST]).hexdigest(),
        "first_seq": plan.first_seq,
        "last_seq": plan.closure.seq,
        "records": records,
        "created_at": created_at,
        "key_id": ledger.signer_key_id,
    }
    return _Written(target, records, body)


def _plan(session: Session, ledger: Ledger, kind: RecordType, period: str) -> _Plan:
    closure = get_closure(session, kind, period)
    if closure is None:
        what = "annuelle" if kind is RecordType.YEAR_CLOSURE else "mensuelle"
        raise ArchiveError(
            f"Archivage impossible : {period_label(period)} n'est pas clôturé. "
            f"Faites d'abord la clôture {what}."
        )
    dated = session.scalar(
        select(func.min(JournalRecord.seq)).where(
            JournalRecord.business_date >= period,
            JournalRecord.business_date < period + "\uffff",
        )
    )
    first = min(dated or closure.seq, closure.seq)
    present = session.scalar(
        select(func.count())
        .select_from(JournalRecord)
        .where(JournalRecord.seq.between(first, closure.seq))
    )
    if present != closure.seq - first + 1:  # a purged period: its archive predates the purge
        raise ArchiveError(
            f"Archivage impossible : {closure.seq - first + 1 - (present or 0)} "
            f"enregistrement(s) {of_period(period)} ne sont plus dans le journal (période "
            "purgée ?). Son archive est celle écrite avant la purge."
        )
    first_prev = session.scalar(select(JournalRecord.prev_hash).where(JournalRecord.seq == first))
    used = set(
        session.scalars(
            select(JournalRecord.key_id)
            .where(JournalRecord.seq.between(first, closure.seq))
            .distinct()
        )
    )
    signer_id = ledger.signer_key_id
    rows = session.execute(
        select(SigningKey.key_id, SigningKey.registered_seq, SigningKey.public_key).where(
            or_(
                SigningKey.registered_seq <= closure.seq,
                SigningKey.key_id.in_(used | {signer_id}),
            )
        )
    ).all()
    known = {key_id: (seq, der) for key_id, seq, der in rows}
    assert ledger.signer is not None
    signer_der = chain.public_der(ledger.signer.public_key())
    signer = (signer_id, known.get(signer_id, (None, b""))[0], signer_der)
    others = sorted(
        ((k, s, d) for k, (s, d) in known.items() if k != signer_id), key=lambda key: key[1]
    )
    meta = session.scalar(select(LedgerMeta))
    settings = asdict(fiscal_settings(session))
    return _Plan(
        period=period,
        closure=closure,
        first_seq=first,
        first_prev_hash=first_prev or chain.GENESIS_PREV_HASH,
        keys=[signer, *others],  # type: ignore[list-item]
        shop={name: settings[name] for name in _SHOP_FIELDS},
        ledger_created_at=meta.created_at if meta else "",
    )


def _free_name(folder: Path, stem: str) -> Path:
    target = folder / f"{stem}.zip"
    counter = 2
    while target.exists():
        target = folder / f"{stem}-{counter}.zip"
        counter += 1
    return target


_CHAIN_COLUMNS = (
    JournalRecord.seq,
    JournalRecord.record_type,
    JournalRecord.number,
    JournalRecord.key_id,
    JournalRecord.canonical_version,
    JournalRecord.canonical,
    JournalRecord.prev_hash,
    JournalRecord.hash,
    JournalRecord.signature,
)


def _chain_records(session: Session, first: int, last: int) -> Iterator[ChainRecord]:
    rows = session.execute(
        select(*_CHAIN_COLUMNS)
        .where(JournalRecord.seq.between(first, last))
        .order_by(JournalRecord.seq)
        .execution_options(yield_per=2000)
    )
    for row in rows:
        yield ChainRecord(*row)


class _HashingFile:
    """A file written once, its SHA-256 computed on the way."""

    def __init__(self, path: Path) -> None:
        self._handle: IO[bytes] = path.open("wb", buffering=1 << 20)
        self._sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        if data:
            self._handle.write(data)
            self._sha.update(data)

    def close(self) -> str:
        self._handle.close()
        return self._sha.hexdigest()


def _stage(
    session: Session, plan: _Plan, staging: Path, timezone: str
) -> tuple[dict[str, str], Counter[str]]:
    """Write the chain file and the readable files into ``staging`` in one pass over the
    records; returns their digests and the number of records per type."""
    files = readable_files(timezone)
    counts: Counter[str] = Counter()
    with ExitStack() as stack:
        outputs: dict[str, _HashingFile] = {}
        for name in (CHAIN, *(f.name for f in files)):
            outputs[name] = _HashingFile(staging / name)
            stack.callback(outputs[name].close)
        chain_out = outputs[CHAIN]
        writers = [(f, outputs[f.name]) for f in files]
        for readable, out in writers:
            out.write(readable.header())
        for record in _chain_records(session, plan.first_seq, plan.closure.seq):
            envelope = canonical.decode(record.canonical)
            chain_out.write(record.line())
            try:
                for readable, out in writers:
                    out.write(readable.row(record, envelope))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ArchiveError(
                    f"Archivage impossible : l'enregistrement n°{record.seq} a un contenu "
                    "inattendu. Vérifiez le journal (comptoir verify).",
                    detail=repr(exc),
                ) from exc
            counts[record.record_type] += 1
        for readable, out in writers:
            out.write(readable.footer())
        stack.pop_all()
    return {name: out.close() for name, out in outputs.items()}, counts


def _manifest_info(
    ledger: Ledger, plan: _Plan, created_at: str, counts: Counter[str]
) -> dict[str, Any]:
    signer_key = ledger.signer
    assert signer_key is not None
    closure = plan.closure
    return {
        "format": FORMAT_ID,
        "ledger_id": ledger.ledger_id,
        "ledger_kind": ledger.kind,
        "ledger_created_at": plan.ledger_created_at,
        "timezone": ledger.timezone,
        "shop": plan.shop,
        "period": plan.period,
        "period_kind": "year" if closure.record_type is RecordType.YEAR_CLOSURE else "month",
        "label": period_label(plan.period),
        "closure": {
            "record_type": closure.record_type.value,
            "seq": closure.seq,
            "number": closure.number,
            "hash": closure.hash,
        },
        "first_seq": plan.first_seq,
        "last_seq": closure.seq,
        "first_prev_hash": plan.first_prev_hash,
        "last_hash": closure.hash,
        "records": sum(counts.values()),
        "counts": dict(sorted(counts.items())),
        "created_at": created_at,
        "software_version": __version__,
        "key_id": ledger.signer_key_id,
        "key_fingerprint": chain.fingerprint_of(signer_key.public_key()),
        "keys": [{"key_id": key_id, "registered_seq": seq} for key_id, seq, _der in plan.keys],
    }


def _signed_files(
    ledger: Ledger, plan: _Plan, info: dict[str, Any], digests: dict[str, str]
) -> dict[str, bytes]:
    """The keys, the README, the manifest over every file's digest, and its signature."""
    pem = keys_pem(
        (
            key_id,
            "signe le manifeste" if index == 0 else f"introduite par l'enregistrement n°{seq}",
            chain.load_public_der(der).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        for index, (key_id, seq, der) in enumerate(plan.keys)
    )
    text = readme(info)
    files = {**digests, KEYS: _sha(pem), README: _sha(text)}
    manifest = {**info, "files": dict(sorted(files.items()))}
    data = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    assert ledger.signer is not None
    signature = chain.sign_hash(ledger.signer, _sha(data))
    return {KEYS: pem, README: text, MANIFEST: data, SIGNATURE: signature}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip_info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # same bytes whatever the system that wrote it
    info.external_attr = 0o644 << 16
    return info


def _write_zip(
    target: Path,
    staging: Path,
    staged: dict[str, str],
    extra: dict[str, bytes],
    stamp: tuple[int, ...],
) -> None:
    """Members in name order with fixed metadata, written under a temporary name and
    renamed once complete and flushed to disk."""
    temporary = temporary_name(target)
    try:
        create_private(temporary)
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted({*staged, *extra}):
                info = _zip_info(name, stamp)
                if name in extra:
                    archive.writestr(info, extra[name])
                    continue
                source = staging / name
                info.file_size = source.stat().st_size  # lets zipfile choose ZIP64 if needed
                with source.open("rb") as src, archive.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# -- after a closure ----------------------------------------------------------------------------
def archive_after_closure(
    ledger: Ledger, record_type: RecordType | str, period: str, operator: str
) -> ArchiveResult | None:
    """Archive a fiscal year right after its closure; None for other closures.

    The closure is already committed when this runs: a failure here never undoes it. It
    is logged and raised as an ArchiveError whose message says the closure is kept and
    how to write the archive again.
    """
    if RecordType(record_type) is not RecordType.YEAR_CLOSURE:
        return None
    try:
        return create_archive(ledger, period, operator=operator, out_dir=archive_dir(ledger))
    except Exception as exc:
        log.exception("automatic archive of %s failed", period)
        reason = exc.message if isinstance(exc, ComptoirError) else "erreur inattendue."
        raise ArchiveError(
            f"La clôture de l'exercice {period} est enregistrée, mais son archive n'a pas pu "
            f"être écrite. {reason} Recommencez avec « comptoir archive create --year "
            f"{period} » ou depuis l'écran Archives (Créer une archive…).",
            detail=repr(exc),
        ) from exc
