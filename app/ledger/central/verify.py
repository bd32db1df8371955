"""Verification of a central ledger: the shop's own chain, every till's chain, and the
shop closures against the tills' tickets. Findings about a till name it.

The central's own chain is checked by ``verify_ledger``, except the totals of its day
closures: those sum the tills' tickets, which are not in that chain, so they are checked
here against ``till_record`` (with the rest of each shop day closure: its range, its
grand totals, the tills' own closures it lists). Each till's chain is checked from its
genesis as ``verify_ledger`` checks a till's file: links, hashes, signatures by the key
in force, copies against the envelope, gapless numbering per type, timestamps, tickets
adding up, and the till's closures recomputed with the same ``RunningTotals`` and
``compare_totals``. The upload trace is checked too: every ``till_upload`` row is signed
by the till's key in force at its last record (``UploadTrace``), the batches cover the
chain from its first record to the head without gap nor overlap, and ``till_chain``'s
head is the last record received.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger import canonical, chain
from app.ledger.central.models import CENTRAL_KIND, TillChain, TillKey, TillRecord, TillUpload
from app.ledger.central.upload import UploadTrace
from app.ledger.closures import list_closures
from app.ledger.journal import derived_rows
from app.ledger.models import SALE_TYPES, JournalRecord, RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import (
    Finding,
    Progress,
    Report,
    RunningTotals,
    compare_totals,
    numbering_message,
    record_name,
    ticket_problem,
    totals_of_body,
    verify_ledger,
)

_SALE_VALUES = frozenset(t.value for t in SALE_TYPES)
_DAY, _MONTH, _YEAR = (
    RecordType.DAY_CLOSURE.value,
    RecordType.MONTH_CLOSURE.value,
    RecordType.YEAR_CLOSURE.value,
)
_PART_OF = {_MONTH: _DAY, _YEAR: _MONTH}
_STEP = 1000  # rows between two progress reports / cancel checks


def target_of(ledger: Ledger) -> Any:
    """What ``verify_ledger`` opens for this ledger: its URL or its file."""
    return getattr(ledger, "target", None) or ledger.path


def verify_central(
    central_target: Ledger | Path | str,
    *,
    till: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Report:
    """Verify the whole shop (or, with ``till``, that till's chain only); writes nothing."""
    if isinstance(central_target, Ledger):
        ledger, owned = central_target, False
    else:
        ledger = Ledger.open(central_target, kind=CENTRAL_KIND, readonly=True)  # type: ignore[arg-type]
        owned = True
    try:
        return _verify(ledger, till, progress, cancelled)
    finally:
        if owned:
            ledger.close()


def _verify(
    ledger: Ledger,
    till: str | None,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> Report:
    with ledger.reader() as session:
        tills = list(session.scalars(select(TillChain).order_by(TillChain.till_id)))
        if till is not None:
            tills = [t for t in tills if t.till_id == till]
            if not tills:
                raise InvalidInput(f"Aucune caisse « {till} » n'est inscrite au serveur central.")
        own = (
            0
            if till is not None
            else session.scalar(select(func.count()).select_from(JournalRecord))
        )
        theirs = session.scalar(
            select(func.count())
            .select_from(TillRecord)
            .where(TillRecord.ledger_id.in_([t.ledger_id for t in tills]))
        )
    total = (own or 0) + (theirs or 0)
    report = Report()
    if till is None:
        report = verify_ledger(
            target_of(ledger),
            progress=(lambda done, _all: progress(done, total)) if progress else None,
            cancelled=cancelled,
        )
    if report.cancelled:
        return report
    days: dict[str, dict[str, RunningTotals]] = defaultdict(dict)
    done = own or 0
    with ledger.reader() as session:
        for chain_row in tills:
            scan = _TillScan(chain_row, report, days if till is None else None)
            done = scan.run(session, done, total, progress, cancelled)
            if report.cancelled:
                return report
        if till is None:
            _check_shop_days(session, report, days, {t.ledger_id: t.till_id for t in tills})
        else:
            report.notices.append(
                f"Seule la chaîne de la caisse {till} a été vérifiée (ni la chaîne de la "
                "boutique, ni ses clôtures)."
            )
    report.findings.sort(key=lambda f: f.seq or 0)
    return report


# -- one till's chain -----------------------------------------------------------------------
@dataclass
class _TillScan:
    """Walks one till's records in order, as ``verify_ledger`` walks a ledger file."""

    till: TillChain
    report: Report
    days: dict[str, dict[str, RunningTotals]] | None
    prev_seq: int = 0
    prev_hash: str = chain.GENESIS_PREV_HASH
    prev_ts: str = ""
    active: str | None = None
    keys: dict[str, Any] = field(default_factory=dict)
    ders: dict[str, bytes] = field(default_factory=dict)
    key_changes: list[tuple[int, str]] = field(default_factory=list)  # (seq, key in force)
    numbers: dict[str, int] = field(default_factory=dict)
    since_day: RunningTotals = field(default_factory=RunningTotals)
    last: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    parts: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def fail(self, seq: int | None, rule: str, message: str) -> None:
        self.report.findings.append(Finding(seq, rule, f"Caisse {self.till.till_id} : {message}"))

    def run(
        self,
        session: Session,
        done: int,
        total: int,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> int:
        rows = session.execute(
            select(TillRecord)
            .where(TillRecord.ledger_id == self.till.ledger_id)
            .order_by(TillRecord.seq)
            .execution_options(yield_per=_STEP)
        ).scalars()
        for row in rows:
            self.record(row)
            done += 1
            if done % _STEP == 0:
                if cancelled is not None and cancelled():
                    self.report.cancelled = True
                    return done
                if progress is not None:
                    progress(done, total)
        self.finish(session)
        return done

    def record(self, row: TillRecord) -> None:
        seq = row.seq
        self.report.records += 1
        name = record_name(seq, row.record_type, row.number)
        if seq != self.prev_seq + 1:
            self.fail(
                seq,
                "sequence",
                f"la séquence passe de {self.prev_seq} à {seq} : "
                f"{seq - self.prev_seq - 1} enregistrement(s) manquant(s).",
            )
        if row.prev_hash != self.prev_hash:
            self.fail(
                seq, "chain", f"{name} ne suit pas l'enregistrement précédent (chaînage rompu)."
            )
        if hashlib.sha256(bytes.fromhex(row.prev_hash) + row.canonical).hexdigest() != row.hash:
            self.fail(
                seq,
                "hash",
                f"{name} a été modifié : son empreinte ne correspond plus à son contenu.",
            )
        try:
            envelope = json.loads(row.canonical)
            body = envelope["body"]
        except (ValueError, KeyError, TypeError):
            self.fail(seq, "format", f"{name} est illisible (contenu canonique corrompu).")
            self._advance(row)
            return
        self._signature(row, envelope, body, name)
        self._copies(row, envelope, body, name)
        self._numbering(row)
        if row.record_type == RecordType.TICKET.value:
            problem = ticket_problem(body)
            if problem:
                self.fail(seq, "ticket", f"{name} : {problem}")
            else:
                self.since_day.add_ticket(body)
                if self.days is not None:
                    day = self.days[row.business_date]
                    day.setdefault(self.till.ledger_id, RunningTotals()).add_ticket(body)
        elif row.record_type in (_DAY, _MONTH, _YEAR):
            self._closure(row, body)
        self._advance(row)

    def _advance(self, row: TillRecord) -> None:
        self.prev_seq, self.prev_hash, self.prev_ts = row.seq, row.hash, row.ts

    def _signature(
        self, row: TillRecord, envelope: dict[str, Any], body: dict[str, Any], name: str
    ) -> None:
        allowed = self.active
        if row.record_type == RecordType.KEY.value:
            try:
                der = base64.b64decode(body["public_key"])
                self.keys[body["key_id"]] = chain.load_public_der(der)
                self.ders[body["key_id"]] = der
            except (ValueError, KeyError, TypeError):
                self.fail(row.seq, "key", f"{name} introduit une clé illisible.")
                return
            if row.seq == 1 or not body.get("endorsed"):
                allowed = body["key_id"]
            if row.seq > 1 and not body.get("endorsed"):
                self.fail(
                    row.seq,
                    "key_unendorsed",
                    f"changement de clé de signature non endossé par la clé précédente à "
                    f"l'enregistrement n°{row.seq} : les enregistrements suivants ne sont plus "
                    "garantis par la clé d'origine.",
                )
        signer = envelope.get("key")
        key = self.keys.get(signer)
        if signer != allowed or key is None:
            self.fail(
                row.seq,
                "key",
                f"{name} est signé par une clé ({signer}) qui n'était pas la clé en vigueur.",
            )
        elif not chain.signature_ok(key, row.hash, row.signature):
            self.fail(row.seq, "signature", f"{name} porte une signature invalide.")
        if row.record_type == RecordType.KEY.value:
            self.active = body.get("key_id")
            self.key_changes.append((row.seq, body.get("key_id")))

    def key_in_force(self, seq: int) -> str | None:
        """The till's key in force at record ``seq``: the latest KEY record up to it."""
        at = bisect.bisect_right(self.key_changes, seq, key=lambda change: change[0])
        return self.key_changes[at - 1][1] if at else None

    def _copies(
        self, row: TillRecord, envelope: dict[str, Any], body: dict[str, Any], name: str
    ) -> None:
        get = envelope.get
        signed = (
            get("seq"),
            get("type"),
            get("number"),
            get("ts"),
            get("date"),
            get("till"),
            get("operator"),
            get("period"),
            get("key"),
            get("v"),
        )
        stored = (
            row.seq,
            row.record_type,
            row.number,
            row.ts,
            row.business_date,
            row.till,
            row.operator,
            row.period,
            row.key_id,
            row.canonical_version,
        )
        try:
            total = derived_rows(row.record_type, body)[2]
        except (KeyError, TypeError, ValueError):
            total = "?"
        if (
            signed != stored
            or total != row.total_cents
            or (bool(row.is_sale) != (row.record_type in _SALE_VALUES))
        ):
            self.fail(
                row.seq,
                "copy",
                f"{name} : les colonnes du serveur central ne correspondent pas au contenu signé.",
            )
        if get("ledger") != self.till.ledger_id:
            self.fail(row.seq, "ledger", f"{name} appartient à un autre journal.")
        if row.ts < self.prev_ts:
            self.fail(row.seq, "time", f"{name} est daté avant l'enregistrement qui le précède.")

    def _numbering(self, row: TillRecord) -> None:
        last = self.numbers.get(row.record_type, 0)
        if row.number != last + 1:
            self.fail(row.seq, "numbering", numbering_message(row.record_type, last, row.number))
        self.numbers[row.record_type] = row.number

    def _closure(self, row: TillRecord, body: dict[str, Any]) -> None:
        self.report.closures += 1
        label = RecordType(row.record_type).label.lower()
        where = f"la {label} du {body.get('period', '?')} (enregistrement n°{row.seq})"

        def fail(message: str) -> None:
            self.fail(row.seq, "closure", f"{where} : {message}")

        rtype = row.record_type
        try:
            previous = self.last.get(rtype)
            first = previous[0] + 1 if previous else 1
            if body["first_seq"] != first or body["last_seq"] != row.seq - 1:
                fail("la plage d'enregistrements couverte est incorrecte.")
            if body["last_hash"] != row.prev_hash:
                fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
            if rtype == _DAY:
                computed, self.since_day = self.since_day, RunningTotals()
            else:
                parts = self.parts.pop(_PART_OF[rtype], [])
                if [(p["seq"], p["period"]) for p in body["parts"]] != [
                    (s, b["period"]) for s, b in parts
                ]:
                    fail("la liste des clôtures regroupées est incorrecte.")
                computed = RunningTotals()
                for _seq, part in parts:
                    computed.merge(totals_of_body(part))
            problem = compare_totals(body, computed)
            if problem:
                fail(problem)
            _perpetual_problems(body, previous[1] if previous else None, fail)
        except (KeyError, TypeError):
            fail("le contenu de la clôture est incomplet.")
        self.last[rtype] = (row.seq, body)
        self.parts.setdefault(rtype, []).append((row.seq, body))

    def finish(self, session: Session) -> None:
        """What the chain cannot say on its own: the head cache, the keys, the uploads."""
        if (self.till.head_seq, self.till.head_hash) != (self.prev_seq, self.prev_hash):
            self.fail(
                None,
                "head",
                f"le serveur central indique avoir reçu jusqu'au n°{self.till.head_seq}, "
                f"mais sa copie de la chaîne s'arrête au n°{self.prev_seq}.",
            )
        for key_id, der in session.execute(
            select(TillKey.key_id, TillKey.public_key).where(
                TillKey.ledger_id == self.till.ledger_id
            )
        ):
            if self.ders.get(key_id) != der:
                self.fail(
                    None,
                    "key",
                    f"la clé {key_id} conservée par le serveur central ne correspond à "
                    "aucune clé de la chaîne.",
                )
        self.report.keys += len(self.ders)
        self.check_uploads(session)

    def check_uploads(self, session: Session) -> None:
        """Every batch signed by the till, and together covering its chain exactly once
        from record 1 to the head: the trace BOFiP asks of a centralising system."""
        uploads, received = _uploads(session, self.till.ledger_id)
        if not uploads:
            self.fail(
                None,
                "upload",
                "la caisse est inscrite au serveur central sans aucun envoi signé par elle.",
            )
            return
        expected = 1
        for upload, signature in uploads:
            self.check_upload(upload, signature, received.get(upload.to_seq), expected)
            expected = max(expected, upload.to_seq + 1)
        if expected <= self.till.head_seq:
            self.fail(
                None,
                "upload",
                f"aucun envoi enregistré ne couvre les enregistrements n°{expected} à "
                f"n°{self.till.head_seq}.",
            )

    def check_upload(
        self, upload: UploadTrace, signature: bytes, received: str | None, expected: int
    ) -> None:
        first, last = upload.from_seq, upload.to_seq
        when = _local_time(upload.uploaded_at, self.till.timezone)
        what = f"l'envoi des enregistrements n°{first} à n°{last} ({when})"

        def fail(message: str) -> None:
            self.fail(first, "upload", f"{what} {message}")

        if first > expected:
            fail(f"laisse un trou : aucun envoi ne couvre les n°{expected} à n°{first - 1}.")
        elif first < expected:
            fail(f"chevauche un envoi précédent (déjà couvert jusqu'au n°{expected - 1}).")
        if last < first or upload.records != last - first + 1:
            fail("annonce un nombre d'enregistrements qui ne correspond pas à sa plage.")
        if received is None or received != upload.last_hash:
            fail(f"annonce une empreinte qui n'est pas celle de l'enregistrement n°{last} reçu.")
        in_force = self.key_in_force(last)
        key = self.keys.get(upload.key_id)
        if upload.key_id != in_force or key is None:
            fail(
                f"est signé par la clé {upload.key_id}, qui n'est pas la clé de la caisse en "
                f"vigueur au n°{last} ({in_force or 'aucune'}) : il n'a pas été fait par elle."
            )
        elif not upload.signed_by(key, signature):
            fail("porte une signature invalide : il a été modifié, ou pas fait par la caisse.")


def _local_time(ts: str, timezone: str) -> str:
    """An upload's time as the shop reads it (dd/mm/yyyy hh:mm:ss), or as stored if it is
    not a timestamp at all (a forged row)."""
    try:
        moment = canonical.parse_ts(ts).astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError):
        return f"daté « {ts} »"
    return f"du {moment:%d/%m/%Y à %H:%M:%S}"


def _uploads(
    session: Session, ledger_id: str
) -> tuple[list[tuple[UploadTrace, bytes]], dict[int, str]]:
    """The till's upload batches in chain order, and the hashes received at their ends."""
    received = dict(
        session.execute(
            select(TillRecord.seq, TillRecord.hash)
            .join(
                TillUpload,
                (TillUpload.ledger_id == TillRecord.ledger_id)
                & (TillUpload.to_seq == TillRecord.seq),
            )
            .where(TillRecord.ledger_id == ledger_id)
        ).all()
    )
    rows = session.scalars(
        select(TillUpload)
        .where(TillUpload.ledger_id == ledger_id)
        .order_by(TillUpload.from_seq, TillUpload.id)
    )
    return [(UploadTrace.of(row), row.signature) for row in rows], received


def _perpetual_problems(
    body: dict[str, Any], previous: dict[str, Any] | None, fail: Callable[[str], None]
) -> None:
    before = previous or {"perpetual_total": 0, "perpetual_abs_total": 0}
    if body["grand_total"] != body["total"]:
        fail("le grand total de la période ne correspond pas au total.")
    if body["perpetual_total"] != before["perpetual_total"] + body["total"] or (
        body["perpetual_abs_total"] != before["perpetual_abs_total"] + body["abs_total"]
    ):
        fail("le grand total perpétuel ne prolonge pas celui de la clôture précédente.")


# -- shop day closures ------------------------------------------------------------------------
def _check_shop_days(
    session: Session,
    report: Report,
    days: dict[str, dict[str, RunningTotals]],
    names: dict[str, str],
) -> None:
    """Each shop day closure against the tills' tickets of its day (replacing what
    ``verify_ledger`` said about it: it compared them with the central chain's tickets,
    of which there are none)."""
    closures = list_closures(session, RecordType.DAY_CLOSURE)
    seqs = {c.seq for c in closures}
    report.findings[:] = [f for f in report.findings if not (f.rule == "closure" and f.seq in seqs)]
    previous = None
    for closure in closures:
        body = closure.body
        where = (
            f"la clôture journalière de la boutique du {closure.period} "
            f"(enregistrement n°{closure.seq})"
        )

        def fail(message: str, seq: int = closure.seq, where: str = where) -> None:
            report.findings.append(Finding(seq, "closure", f"{where} : {message}"))

        try:
            first = previous.seq + 1 if previous else 1
            before_hash = session.scalar(
                select(JournalRecord.hash).where(JournalRecord.seq == closure.seq - 1)
            )
            if body["first_seq"] != first or body["last_seq"] != closure.seq - 1:
                fail("la plage d'enregistrements couverte est incorrecte.")
            if body["last_hash"] != before_hash:
                fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
            per_till = days.get(closure.period, {})
            computed = RunningTotals()
            for running in per_till.values():
                computed.merge(running)
            problem = compare_totals(body, computed)
            if problem:
                fail(f"{problem} (tickets des caisses)")
            _perpetual_problems(body, previous.body if previous else None, fail)
            _check_listed_tills(session, body, per_till, names, fail)
        except (KeyError, TypeError):
            fail("le contenu de la clôture est incomplet.")
        previous = closure


def _check_listed_tills(
    session: Session,
    body: dict[str, Any],
    per_till: dict[str, RunningTotals],
    names: dict[str, str],
    fail: Callable[[str], None],
) -> None:
    listed = {entry["ledger"]: entry for entry in body["tills"]}
    for ledger_id in per_till:
        if ledger_id not in listed:
            fail(f"les tickets de la caisse {names.get(ledger_id, ledger_id)} n'y figurent pas.")
    for ledger_id, entry in listed.items():
        till = entry["till"]
        running = per_till.get(ledger_id, RunningTotals())
        if entry["tickets"] != running.tickets or entry["total"] != sum(
            v[2] for v in running.vat.values()
        ):
            fail(f"les totaux de la caisse {till} ne correspondent pas à ses tickets.")
        ref = entry["closure"]
        if ref is None:
            if running.tickets:
                fail(f"la clôture de la caisse {till} n'y est pas citée.")
            continue
        row = session.get(TillRecord, (ledger_id, ref["seq"]))
        if (
            row is None
            or row.hash != ref["hash"]
            or row.record_type != _DAY
            or row.period != body["period"]
        ):
            fail(f"la clôture citée pour la caisse {till} n'est pas celle que la caisse a envoyée.")
