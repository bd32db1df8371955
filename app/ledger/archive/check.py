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
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.ledger import chain
from app.ledger.archive.format import (
    CHAIN,
    FORMAT_ID,
    KEYS,
    MANIFEST,
    READABLE_NAMES,
    SIGNATURE,
    SIGNED_FILES,
    ChainRecord,
    ReadableFile,
    pem_blocks,
    readable_files,
)
from app.ledger.archive.timestamp import TOKEN_NAME, check_archive_token
from app.ledger.closures import month_label
from app.ledger.models import CLOSURE_TYPES, RECORD_LABELS, RecordType
from app.ledger.verify import checks
from app.ledger.verify import report as say
from app.ledger.verify.closures import DAY, PART_OF
from app.ledger.verify.totals import (
    RunningTotals,
    compare_totals,
    perpetual_problem,
    ticket_problem,
    totals_of_body,
)

Progress = Callable[[int, int], None]
_STEP = 1000  # records between two progress reports / cancellation checks
_MAX_READ = 64 << 20  # members read whole (manifest, keys, README, signature)
_MAX_LINE = 4 << 20  # a chain line: canonical bytes are at most 256 KiB
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)
_KEY = RecordType.KEY.value
_TICKET = RecordType.TICKET.value
_CLOSURE_VALUES = frozenset(t.value for t in CLOSURE_TYPES)
_LINE_DIFFERS = f"la ligne de {CHAIN} ne correspond pas au contenu signé."


@dataclass(frozen=True)
class ArchiveFinding:
    file: str | None  # name inside the ZIP, e.g. "tickets.csv"; None when not about one file
    seq: int | None
    message: str  # plain French


@dataclass
class ArchiveReport:
    findings: list[ArchiveFinding]
    manifest: dict[str, Any]
    records: int
    cancelled: bool
    key_fingerprint: str = ""
    closures_checked: int = 0
    closures_partial: int = 0
    records_key_id: str | None = None  # the key in force at the end of the archived range
    time_stamp: str | None = None  # what a sound RFC 3161 token says (archive/timestamp.py)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.cancelled

    def summary(self) -> str:
        """A French paragraph: the verdict, what was checked, and which key signs."""
        if self.cancelled:
            return "Vérification de l'archive interrompue avant la fin."
        manifest = self.manifest
        what = period_label(manifest["period"]) if manifest.get("period") else ""
        if self.ok:
            partial = (
                f" ; {_n(self.closures_partial)} clôture(s) commencée(s) avant l'archive "
                "n'ont pu être recalculées qu'en partie"
                if self.closures_partial
                else ""
            )
            verdict = (
                f"Archive intègre : {what}, {_n(self.records)} enregistrements "
                f"(n°{_n(manifest['first_seq'])} à n°{_n(manifest['last_seq'])}) vérifiés : "
                "empreintes, signatures, chaînage, numérotation, "
                f"{_n(self.closures_checked)} clôture(s) recalculée(s){partial}. Les fichiers "
                "sont ceux du manifeste et reproduisent fidèlement les données signées."
            )
        else:
            first = self.findings[0].message.rstrip(".")
            more = len(self.findings) - 1
            tail = f" ({_n(more)} autre(s) anomalie(s))" if more else ""
            about = f" ({what})" if what else ""
            verdict = f"Archive NON intègre{about} : {first[:1].lower()}{first[1:]}{tail}."
        if self.ok and self.time_stamp:
            verdict = f"{verdict} {self.time_stamp}"
        if not self.key_fingerprint:
            return verdict
        signer = manifest.get("key_id")
        changed = (
            f" Les enregistrements de la période sont signés par la clé {self.records_key_id}, "
            "remplacée depuis."
            if self.records_key_id and self.records_key_id != signer
            else ""
        )
        return (
            f"{verdict} L'archive est signée par la clé {signer} qu'elle contient (empreinte "
            f"{self.key_fingerprint}) : comparez cette empreinte à celle du journal de la "
            f"boutique pour vous assurer qu'elle en provient.{changed}"
        )


def period_label(period: Any) -> str:
    """How a period is named in a sentence: l'exercice 2026, le mois de mars 2026."""
    text = str(period)
    if len(text) == 4 and text.isdigit():
        return f"l'exercice {text}"
    try:
        return f"le mois de {month_label(text)}"
    except (ValueError, IndexError):
        return f"la période {text}"


def of_period(period: Any) -> str:
    """The period after a noun: "de l'exercice 2026", "du mois de mars 2026"."""
    label = period_label(period)
    return f"du {label[3:]}" if label.startswith("le ") else f"de {label}"


def _n(value: Any) -> str:
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


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


# -- readable copies -----------------------------------------------------------------------------
class _Copy:
    """A readable file of the archive read alongside its rendering from the signed records:
    notes the first place where they differ, and hashes what it reads. Renderings are
    compared in batches, which reads the ZIP member in large pieces."""

    BATCH = 1 << 16

    def __init__(self, readable: ReadableFile, stream: IO[bytes]) -> None:
        self.readable, self.stream = readable, stream
        self.sha = hashlib.sha256()
        self.differs_at: str | None = None
        self.damaged = False
        self._pending = bytearray()
        self._marks: list[tuple[int, str]] = []  # (end of a rendering in _pending, where)

    def expect(self, data: bytes, where: str) -> None:
        if not data or self.damaged or self.differs_at is not None:
            return  # after a difference, only the digest matters: finish() reads the rest
        self._pending += data
        self._marks.append((len(self._pending), where))
        if len(self._pending) >= self.BATCH:
            self._compare()

    def _compare(self) -> None:
        pending = self._pending
        if not pending:
            return
        try:
            got = self.stream.read(len(pending))
        except _READ_ERRORS:
            self.damaged = True
            return
        self.sha.update(got)
        if got != pending:
            index = next(
                (i for i, (a, b) in enumerate(zip(got, pending, strict=False)) if a != b),
                min(len(got), len(pending)),
            )
            self.differs_at = next(where for end, where in self._marks if index < end)
        pending.clear()
        self._marks.clear()

    def finish(self) -> int:
        """Compare what is pending, then read what is left (it should be nothing);
        returns the length of what was left."""
        self._compare()
        extra = 0
        while not self.damaged:
            try:
                chunk = self.stream.read(1 << 20)
            except _READ_ERRORS:
                self.damaged = True
                break
            if not chunk:
                break
            extra += len(chunk)
            self.sha.update(chunk)
        self.stream.close()
        return extra


# -- closures ------------------------------------------------------------------------------------
@dataclass
class _Closures:
    """Closures checked against what the archive holds. A closure whose range starts
    before the archive can only be partly checked (its link and its parts found here)."""

    first_seq: int
    fail: Callable[[int, str], None]
    running: RunningTotals = field(default_factory=RunningTotals)
    day_start: int = 0
    seen: dict[int, tuple[str, str, str, dict[str, Any]]] = field(default_factory=dict)
    checked: int = 0
    partial: int = 0

    def __post_init__(self) -> None:
        self.day_start = self.first_seq

    def ticket(self, body: dict[str, Any]) -> bool:
        """Count a ticket in the running day; False (and nothing counted) when its content
        has values of the wrong kind."""
        single = RunningTotals()
        try:
            single.add_ticket(body)
        except (KeyError, TypeError, AttributeError):
            return False
        self.running.merge(single)
        return True

    def closure(self, seq: int, rtype: str, body: dict[str, Any], prev: str, hash_: str) -> None:
        label = RECORD_LABELS[RecordType(rtype)].lower()
        name = f"la {label} du {body.get('period', '?')} (enregistrement n°{seq})"

        def fail(problem: str) -> None:
            self.fail(seq, _sentence(f"{name} : {problem}"))

        try:
            complete = self._check(seq, rtype, body, prev, fail)
            self._check_link(body, fail)
            if body["grand_total"] != body["total"]:
                fail("le grand total de la période ne correspond pas au total.")
        except (KeyError, TypeError, AttributeError):
            fail("le contenu de la clôture est incomplet.")
            complete = False
        if complete:
            self.checked += 1
        else:
            self.partial += 1
        self.seen[seq] = (rtype, str(body.get("period")), hash_, body)

    def _check(
        self, seq: int, rtype: str, body: dict[str, Any], prev: str, fail: Callable[[str], None]
    ) -> bool:
        """Range and totals; True when the whole closure could be recomputed."""
        if body["last_seq"] != seq - 1:
            fail("la plage d'enregistrements couverte est incorrecte.")
        if seq > self.first_seq and body["last_hash"] != prev:
            fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
        covered = body["first_seq"] >= self.first_seq
        if rtype == DAY:
            running, start = self.running, self.day_start
            self.running, self.day_start = RunningTotals(), seq + 1
            if not covered:
                return False
            if body["first_seq"] != start:
                fail("la plage d'enregistrements couverte est incorrecte.")
                return False
            problem = compare_totals(body, running)
            if problem:
                fail(problem)
            return True
        part_type = PART_OF[rtype]
        listed = [(p["seq"], p["period"], p["hash"]) for p in body["parts"]]
        if not all(s in self.seen for s, _p, _h in listed):
            return False
        if covered:
            found = [
                s
                for s, (t, period, _h, _b) in self.seen.items()
                if t == part_type
                and body["first_seq"] <= s < seq
                and period.startswith(body["period"])
            ]
            if [s for s, _p, _h in listed] != found:
                fail("la liste des clôtures regroupées est incorrecte.")
        computed = RunningTotals()
        for s, period, hash_ in listed:
            t, seen_period, seen_hash, part = self.seen[s]
            if (t, seen_period, seen_hash) != (part_type, period, hash_):
                fail("la liste des clôtures regroupées est incorrecte.")
            computed.merge(totals_of_body(part))
        problem = compare_totals(body, computed)
        if problem:
            fail(problem)
        return covered

    def _check_link(self, body: dict[str, Any], fail: Callable[[str], None]) -> None:
        """The perpetual grand total goes on from the previous closure of the same kind."""
        previous = body["previous"]
        if previous is None or previous["seq"] not in self.seen:
            return
        _t, _p, hash_, before = self.seen[previous["seq"]]
        if previous["hash"] != hash_:
            fail("le lien vers la clôture précédente est incorrect.")
        perpetual_problem(body, before, fail)


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
        except _READ_ERRORS:
            self.fail(name, None, f"Le fichier {name} est endommagé : il ne peut pas être lu.")
            return None

    def _check_digest(self, name: str, actual: str) -> None:
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
                    self._check_digest(name, hashlib.sha256(content).hexdigest())
        if CHAIN in self.names:
            _ChainCheck(self, manifest).run()

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


class _ChainCheck:
    """One pass over chaine.jsonl, with the readable files read alongside."""

    def __init__(self, verifier: _Verifier, manifest: dict[str, Any]) -> None:
        self.v, self.manifest = verifier, manifest
        self.first_seq = _int(manifest.get("first_seq"))
        ring = checks.KeyRing()
        for key_id, key in verifier.keys.items():
            ring.add(0, key_id, key)
        ring.current = self._key_before(self.first_seq)
        self.walk = checks.Walk(
            lambda seq, _rule, message: verifier.fail(CHAIN, seq, _sentence(message)),
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
        self.closures = _Closures(self.first_seq, lambda seq, m: verifier.fail(CHAIN, seq, m))
        self.copies: list[_Copy] = []

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
                    copy = _Copy(readable, v.archive.open(readable.name))
                except _READ_ERRORS:
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
        except _READ_ERRORS:
            v.fail(CHAIN, None, f"Le fichier {CHAIN} est endommagé : il ne peut pas être lu.")
        if v.progress is not None:
            v.progress(v.report.records, max(total, v.report.records))
        v._check_digest(CHAIN, sha.hexdigest())
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
                f"{_sentence(checks.name_of(rec))} ne suit pas l'empreinte du manifeste "
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
        self._content(record, body, _sentence(checks.name_of(rec)))
        self._render(record, envelope, _sentence(checks.name_of(rec)))
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
            self.v._check_digest(file, copy.sha.hexdigest())
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
                f"{CHAIN} contient {_n(records)} enregistrements, le manifeste en "
                f"annonce {_n(m.get('records'))}.",
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
