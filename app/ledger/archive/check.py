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
from app.ledger.closures import month_label
from app.ledger.models import CLOSURE_TYPES, RECORD_LABELS, RecordType
from app.ledger.verify.engine import (
    RunningTotals,
    compare_totals,
    numbering_message,
    record_name,
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
_DAY = RecordType.DAY_CLOSURE.value
_CLOSURE_VALUES = frozenset(t.value for t in CLOSURE_TYPES)
_PART_OF = {
    RecordType.MONTH_CLOSURE.value: _DAY,
    RecordType.YEAR_CLOSURE.value: RecordType.MONTH_CLOSURE.value,
}


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
        if rtype == _DAY:
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
        part_type = _PART_OF[rtype]
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
        if body["perpetual_total"] != before["perpetual_total"] + body["total"] or (
            body["perpetual_abs_total"] != before["perpetual_abs_total"] + body["abs_total"]
        ):
            fail("le grand total perpétuel ne prolonge pas celui de la clôture précédente.")


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
        for name in sorted(self.names - set(files) - {MANIFEST, SIGNATURE}):
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
        self.expected_seq = self.first_seq
        self.prev_hash: str | None = manifest.get("first_prev_hash")
        self.prev_ts = ""
        self.numbers: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.last: ChainRecord | None = None
        self.last_period: Any = None
        self.current_key = self._key_before(self.first_seq)
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
        v.report.records_key_id = self.current_key

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
        fail = self.v.fail
        try:
            record = ChainRecord.from_line(line)
        except ValueError:
            fail(CHAIN, None, f"La ligne {self.v.report.records} de {CHAIN} est illisible.")
            self.expected_seq += 1
            self.prev_hash = None
            return
        seq = record.seq
        name = _sentence(record_name(seq, record.record_type, record.number))
        if seq != self.expected_seq:
            fail(
                CHAIN,
                seq,
                f"La séquence passe de {self.expected_seq - 1} à {seq} : "
                "des enregistrements manquent ou sont en trop.",
            )
        if self.prev_hash is not None and record.prev_hash != self.prev_hash:
            where = "du manifeste" if seq == self.first_seq else "de l'enregistrement précédent"
            fail(
                CHAIN,
                seq,
                f"{name} ne suit pas l'empreinte {where} (chaînage rompu : "
                "enregistrement supprimé, inséré ou déplacé).",
            )
        if chain.link_hash(record.prev_hash, record.canonical) != record.hash:
            fail(
                CHAIN,
                seq,
                f"{name} a été modifié : son empreinte ne correspond plus à son contenu.",
            )
        self.expected_seq, self.prev_hash, self.last = seq + 1, record.hash, record
        self.counts[record.record_type] += 1
        try:
            envelope = json.loads(record.canonical)
            body = envelope["body"]
            if not isinstance(body, dict):
                raise TypeError("body")
        except (ValueError, KeyError, TypeError):
            fail(CHAIN, seq, f"{name} est illisible (contenu canonique corrompu).")
            return
        self._envelope(record, envelope, name)
        self._signature(record, body, name)
        self._content(record, envelope, body, name)
        self._render(record, envelope, name)

    def _envelope(self, record: ChainRecord, envelope: dict[str, Any], name: str) -> None:
        fail = self.v.fail
        get = envelope.get
        copies = (get("seq"), get("type"), get("number"), get("key"), get("v"))
        if copies != (
            record.seq,
            record.record_type,
            record.number,
            record.key_id,
            record.canonical_version,
        ):
            fail(
                CHAIN,
                record.seq,
                f"{name} : la ligne de {CHAIN} ne correspond pas au contenu signé.",
            )
        if get("ledger") != self.manifest.get("ledger_id"):
            fail(CHAIN, record.seq, f"{name} appartient à un autre journal.")
        ts = get("ts")
        if isinstance(ts, str):
            if ts < self.prev_ts:
                fail(CHAIN, record.seq, f"{name} est daté avant l'enregistrement qui le précède.")
            self.prev_ts = ts
        self.last_period = get("period")

    def _signature(self, record: ChainRecord, body: dict[str, Any], name: str) -> None:
        fail, seq = self.v.fail, record.seq
        allowed = self.current_key
        if record.record_type == _KEY:
            if seq == 1 or not body.get("endorsed"):
                allowed = body.get("key_id")
            if seq > 1 and not body.get("endorsed"):
                fail(
                    CHAIN,
                    seq,
                    f"Changement de clé de signature non endossé par la clé "
                    f"précédente à l'enregistrement n°{seq} (motif : {body.get('reason', '?')})"
                    " : les enregistrements suivants ne sont plus garantis par la clé "
                    "d'origine.",
                )
        key = self.v.keys.get(record.key_id)
        if record.key_id != allowed:
            fail(
                CHAIN,
                seq,
                f"{name} est signé par une clé ({record.key_id}) qui n'était pas "
                "la clé en vigueur.",
            )
        elif key is None:
            fail(CHAIN, seq, f"{name} est signé par la clé {record.key_id}, absente de {KEYS}.")
        elif not chain.signature_ok(key, record.hash, record.signature):
            fail(CHAIN, seq, f"{name} porte une signature invalide.")
        if record.record_type == _KEY:
            introduced = self.v.keys.get(str(body.get("key_id")))
            if introduced is None or chain.key_id_of(introduced) != body.get("key_id"):
                fail(CHAIN, seq, f"{name} introduit une clé absente de {KEYS}.")
            self.current_key = body.get("key_id")

    def _content(
        self, record: ChainRecord, envelope: dict[str, Any], body: dict[str, Any], name: str
    ) -> None:
        fail, seq, rtype = self.v.fail, record.seq, record.record_type
        last = self.numbers.get(rtype)
        if last is not None and record.number != last + 1:
            fail(CHAIN, seq, _sentence(numbering_message(rtype, last, record.number)))
        self.numbers[rtype] = record.number
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
