"""One pass over an archive's chain file: every record through the checks of the
verification engine, the closures recomputed, and the readable files rendered again from
the signed records alongside."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric import ec

from app.ledger import chain
from app.ledger.archive.closure_check import ArchiveClosures
from app.ledger.archive.format import CHAIN, KEYS, MANIFEST, ChainRecord, readable_files
from app.ledger.archive.readable_copy import READ_ERRORS, ReadableCopy
from app.ledger.archive.verdict import ArchiveReport, grouped, period_label, sentence
from app.ledger.records import CLOSURE_TYPES, RecordType
from app.ledger.verify import checks
from app.ledger.verify import report as say
from app.ledger.verify.totals import ticket_problem

Progress = Callable[[int, int], None]
_STEP = 1000  # records between two progress reports / cancellation checks
_MAX_LINE = 4 << 20  # a chain line: canonical bytes are at most 256 KiB
_KEY = RecordType.KEY.value
_TICKET = RecordType.TICKET.value
_CLOSURE_VALUES = frozenset(t.value for t in CLOSURE_TYPES)


class ArchiveReading(Protocol):
    """What the chain check needs of the archive's verification: the open file, what the
    manifest announced, the report, and where findings go."""

    archive: zipfile.ZipFile
    report: ArchiveReport
    progress: Progress | None
    cancelled: Callable[[], bool] | None
    names: set[str]
    keys: dict[str, ec.EllipticCurvePublicKey]

    def fail(self, file: str | None, seq: int | None, message: str) -> None: ...
    def check_digest(self, name: str, actual: str) -> None: ...


class ChainCheck:
    """One pass over chaine.jsonl, with the readable files read alongside."""

    def __init__(self, verifier: ArchiveReading, manifest: dict[str, Any]) -> None:
        self.v, self.manifest = verifier, manifest
        self.first_seq = _int(manifest.get("first_seq"))
        ring = checks.KeyRing()
        for key_id, key in verifier.keys.items():
            ring.add(0, key_id, key)
        ring.current = self._key_before(self.first_seq)
        self.walk = checks.Walk(
            lambda seq, _rule, message: verifier.fail(CHAIN, seq, sentence(message)),
            ledger_id=manifest.get("ledger_id"),
            keys=ring,
            copied=("seq", "type", "number", "key", "v"),
        )
        self.walk.prev_seq = self.first_seq - 1
        self.walk.prev_hash = manifest.get("first_prev_hash")
        self.walk.prev_ts = ""
        self.counts: Counter[str] = Counter()
        self.last: ChainRecord | None = None
        self.last_period: Any = None
        self.closures = ArchiveClosures(self.first_seq, lambda seq, m: verifier.fail(CHAIN, seq, m))
        self.copies: list[ReadableCopy] = []

    def _key_before(self, seq: int) -> str | None:
        """The key in force at the start of the archive: the last one introduced before it."""
        entries = self.manifest.get("keys")
        active, since = None, 0
        for entry in entries if isinstance(entries, list) else []:
            introduced = entry.get("registered_seq") if isinstance(entry, dict) else None
            if isinstance(introduced, int) and since <= introduced < seq:
                active, since = entry.get("key_id"), introduced
        return active

    def _timezone(self) -> str:
        name = self.manifest.get("timezone")
        try:
            ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.v.fail(MANIFEST, None, f"Le fuseau horaire du manifeste ({name}) est inconnu.")
            return "UTC"
        return str(name)

    def run(self) -> None:
        v = self.v
        for readable in readable_files(self._timezone()):
            if readable.name in v.names:
                try:
                    copy = ReadableCopy(readable, v.archive.open(readable.name))
                except READ_ERRORS:
                    v.fail(
                        readable.name,
                        None,
                        f"Le fichier {readable.name} est endommagé : il ne peut pas être lu.",
                    )
                    continue
                copy.expect(readable.header(), "l'en-tête")
                self.copies.append(copy)
        total = _int(self.manifest.get("records"))
        sha = hashlib.sha256()
        try:
            with v.archive.open(CHAIN) as stream:
                # A chain line is far shorter than _MAX_LINE; a longer one is cut and then
                # reported as illegible instead of being read whole into memory.
                for line in iter(lambda: stream.readline(_MAX_LINE), b""):
                    sha.update(line)
                    if v.report.records % _STEP == 0 and self._interrupted(total):
                        return
                    v.report.records += 1
                    self._record(line)
        except READ_ERRORS:
            v.fail(CHAIN, None, f"Le fichier {CHAIN} est endommagé : il ne peut pas être lu.")
        if v.progress is not None:
            v.progress(v.report.records, max(total, v.report.records))
        v.check_digest(CHAIN, sha.hexdigest())
        self._finish_copies()
        self._finish_chain()
        v.report.closures_checked = self.closures.checked
        v.report.closures_partial = self.closures.partial
        v.report.records_key_id = self.walk.keys.current

    def _interrupted(self, total: int) -> bool:
        v = self.v
        if v.cancelled is not None and v.cancelled():
            v.report.cancelled = True
            for copy in self.copies:
                copy.stream.close()
            return True
        if v.progress is not None and v.report.records:
            v.progress(v.report.records, max(total, v.report.records))
        return False

    def _record(self, line: bytes) -> None:
        walk = self.walk
        try:
            record = ChainRecord.from_line(line)
        except ValueError:
            self.v.fail(CHAIN, None, f"La ligne {self.v.report.records} de {CHAIN} est illisible.")
            walk.prev_seq = (walk.prev_seq or 0) + 1
            walk.prev_hash = None
            return
        seq = record.seq
        try:
            envelope = json.loads(record.canonical)
            body = envelope["body"]
            if not isinstance(body, dict):
                raise TypeError("body")
        except (ValueError, KeyError, TypeError):
            envelope = body = None
        ts = envelope.get("ts") if envelope is not None else None
        rec = _as_record(record, ts if isinstance(ts, str) else None)
        if seq == self.first_seq and record.prev_hash != walk.prev_hash:
            self.v.fail(
                CHAIN,
                seq,
                f"{sentence(checks.name_of(rec))} ne suit pas l'empreinte du manifeste "
                "(chaînage rompu : enregistrement supprimé, inséré ou déplacé).",
            )
            walk.prev_hash = None
        checks.check_record(walk, rec)
        self.last = record
        self.counts[record.record_type] += 1
        if envelope is None or body is None:
            walk.fail(seq, "format", say.illegible(checks.name_of(rec)))
            walk.advance(rec)
            return
        checks.check_copies(
            walk, rec, envelope, f"la ligne de {CHAIN} ne correspond pas au contenu signé."
        )
        checks.check_ledger(walk, rec, envelope.get("ledger"))
        checks.check_time(walk, rec)
        self.last_period = envelope.get("period")
        self._signature(rec, body)
        checks.check_numbering(walk, rec)
        self._content(record, body, sentence(checks.name_of(rec)))
        self._render(record, envelope, sentence(checks.name_of(rec)))
        walk.advance(rec)

    def _signature(self, rec: tuple[Any, ...], body: dict[str, Any]) -> None:
        walk, seq, signer = self.walk, rec[checks.SEQ], rec[checks.KEY_ID]
        if rec[checks.TYPE] == _KEY and seq > 1 and not body.get("endorsed"):
            walk.fail(seq, "key_unendorsed", say.unendorsed(seq, body.get("reason", "?")))
        if signer == checks.allowed_signer(walk, rec, body) and signer not in walk.keys.public:
            walk.fail(
                seq,
                "key",
                f"{checks.name_of(rec)} est signé par la clé {signer}, absente de {KEYS}.",
            )
        else:
            checks.check_signature(walk, rec, signer, body)
        if rec[checks.TYPE] == _KEY:
            introduced = walk.keys.public.get(str(body.get("key_id")))
            if introduced is None or chain.key_id_of(introduced) != body.get("key_id"):
                walk.fail(seq, "key", f"{checks.name_of(rec)} introduit une clé absente de {KEYS}.")

    def _content(self, record: ChainRecord, body: dict[str, Any], name: str) -> None:
        fail, seq, rtype = self.v.fail, record.seq, record.record_type
        if rtype == _TICKET:
            problem = ticket_problem(body)
            if problem is None and not self.closures.ticket(body):
                problem = "le contenu du ticket est incomplet."
            if problem:
                fail(CHAIN, seq, f"{name} : {problem}")
        elif rtype in _CLOSURE_VALUES:
            self.closures.closure(seq, rtype, body, record.prev_hash, record.hash)

    def _render(self, record: ChainRecord, envelope: dict[str, Any], name: str) -> None:
        where = name[:1].lower() + name[1:]
        for copy in self.copies:
            try:
                data = copy.readable.row(record, envelope)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                self.v.fail(
                    CHAIN,
                    record.seq,
                    f"{name} a un contenu inattendu : il ne peut pas "
                    f"être présenté dans {copy.readable.name}.",
                )
                continue
            copy.expect(data, where)

    def _finish_copies(self) -> None:
        for copy in self.copies:
            copy.expect(copy.readable.footer(), "la fin du fichier")
            extra = copy.finish()
            file = copy.readable.name
            if copy.damaged:
                self.v.fail(
                    file, None, f"Le fichier {file} est endommagé : il ne peut pas être lu."
                )
                continue
            self.v.check_digest(file, copy.sha.hexdigest())
            if copy.differs_at is not None:
                self.v.fail(
                    file,
                    None,
                    f"Le fichier {file} ne reproduit pas fidèlement les "
                    f"données signées (première différence : {copy.differs_at}).",
                )
            elif extra:
                self.v.fail(
                    file,
                    None,
                    f"Le fichier {file} contient des données qui ne "
                    "proviennent pas des enregistrements signés.",
                )

    def _finish_chain(self) -> None:
        m, fail, last = self.manifest, self.v.fail, self.last
        records = self.v.report.records
        if records != m.get("records"):
            fail(
                CHAIN,
                None,
                f"{CHAIN} contient {grouped(records)} enregistrements, le manifeste en "
                f"annonce {grouped(m.get('records'))}.",
            )
        elif dict(self.counts) != m.get("counts"):
            fail(
                MANIFEST,
                None,
                "Le décompte des enregistrements par type du manifeste ne "
                "correspond pas à la chaîne.",
            )
        if last is None:
            fail(CHAIN, None, f"{CHAIN} ne contient aucun enregistrement.")
            return
        if last.seq != m.get("last_seq") or last.hash != m.get("last_hash"):
            fail(
                CHAIN,
                last.seq,
                "La chaîne ne se termine pas par l'enregistrement annoncé par "
                "le manifeste : des enregistrements manquent à la fin.",
            )
        kind = m.get("period_kind")
        expected = RecordType.YEAR_CLOSURE if kind == "year" else RecordType.MONTH_CLOSURE
        if last.record_type != expected.value or self.last_period != m.get("period"):
            fail(
                CHAIN,
                last.seq,
                f"La chaîne ne se termine pas par la clôture de {period_label(m.get('period'))}.",
            )


def _as_record(record: ChainRecord, ts: str | None) -> tuple[Any, ...]:
    """A chain line as the checks read a record; an archive line copies no till, date
    or amount (the readable files are compared with the signed records instead)."""
    return (
        record.seq,
        record.record_type,
        record.number,
        ts,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        record.key_id,
        record.canonical_version,
        record.canonical,
        record.prev_hash,
        record.hash,
        record.signature,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
