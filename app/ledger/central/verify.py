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
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger import canonical, chain
from app.ledger.central.models import CENTRAL_KIND, TillChain, TillKey, TillRecord, TillUpload
from app.ledger.central.upload import UploadTrace
from app.ledger.chain import GENESIS_PREV_HASH
from app.ledger.closures import list_closures
from app.ledger.models import JournalRecord
from app.ledger.records import SALE_TYPES, RecordType, derived_rows
from app.ledger.store import Ledger
from app.ledger.verify import checks
from app.ledger.verify import report as say
from app.ledger.verify.closures import DAY as _DAY
from app.ledger.verify.closures import MONTH as _MONTH
from app.ledger.verify.closures import YEAR as _YEAR
from app.ledger.verify.closures import ClosureChain
from app.ledger.verify.engine import Progress, verify_ledger
from app.ledger.verify.report import Finding, Report
from app.ledger.verify.totals import (
    RunningTotals,
    compare_totals,
    grand_total_problems,
    ticket_problem,
)

_SALE_VALUES = frozenset(t.value for t in SALE_TYPES)
_COLUMNS_DIFFER = "les colonnes du serveur central ne correspondent pas au contenu signé."
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
        # The shop's verdict also rests on the tills' chains, which a checkpoint of the
        # central's own chain does not cover: a central is always verified whole.
        report.checkpoint = None
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
_COPIED = tuple(k for k in checks.ENVELOPE_COPIES if k != "ref")  # a till record has no ref
_COLUMNS = (
    TillRecord.seq,
    TillRecord.record_type,
    TillRecord.number,
    TillRecord.ts,
    TillRecord.business_date,
    TillRecord.till,
    TillRecord.operator,
    TillRecord.is_sale,
    null(),  # ref: not copied into a column here
    TillRecord.period,
    TillRecord.total_cents,
    TillRecord.key_id,
    TillRecord.canonical_version,
    TillRecord.canonical,
    TillRecord.prev_hash,
    TillRecord.hash,
    TillRecord.signature,
)


class _TillScan:
    """Walks one till's records in order with the checks ``verify_ledger`` runs on a
    ledger file."""

    def __init__(
        self,
        till: TillChain,
        report: Report,
        days: dict[str, dict[str, RunningTotals]] | None,
    ) -> None:
        self.till, self.report, self.days = till, report, days
        self.keys = checks.KeyRing()
        self.walk = checks.Walk(
            self.fail, ledger_id=till.ledger_id, keys=self.keys, copied=_COPIED, first_number=1
        )
        self.walk.prev_seq, self.walk.prev_hash, self.walk.prev_ts = 0, GENESIS_PREV_HASH, ""
        self.closures = ClosureChain(self.fail)
        self.ders: dict[str, bytes] = {}
        self.key_changes: list[tuple[int, str]] = []  # (seq, key in force)

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
            select(*_COLUMNS)
            .where(TillRecord.ledger_id == self.till.ledger_id)
            .order_by(TillRecord.seq)
            .execution_options(yield_per=_STEP)
        )
        for row in rows:
            self.record(tuple(row))
            done += 1
            if done % _STEP == 0:
                if cancelled is not None and cancelled():
                    self.report.cancelled = True
                    return done
                if progress is not None:
                    progress(done, total)
        self.finish(session)
        return done

    def record(self, rec: tuple[Any, ...]) -> None:
        walk, seq, rtype = self.walk, rec[checks.SEQ], rec[checks.TYPE]
        self.report.records += 1
        checks.check_record(walk, rec)
        try:
            envelope = json.loads(rec[checks.CANONICAL])
            body = envelope["body"]
        except (ValueError, KeyError, TypeError):
            self.fail(seq, "format", say.illegible(checks.name_of(rec)))
            walk.advance(rec)
            return
        if rtype != checks.KEY or self._introduce(rec, body):
            checks.check_signature(walk, rec, envelope.get("key"), body)
        if rtype == checks.KEY and body.get("key_id") in self.keys.public:
            self.key_changes.append((seq, body["key_id"]))
        try:
            total = derived_rows(rtype, body)[2]
        except (KeyError, TypeError, ValueError):
            total = "?"
        if (
            checks.copies_differ(walk, rec, envelope)
            or total != rec[checks.TOTAL]
            or bool(rec[checks.IS_SALE]) != (rtype in _SALE_VALUES)
        ):
            self.fail(seq, "copy", f"{checks.name_of(rec)} : {_COLUMNS_DIFFER}")
        checks.check_ledger(walk, rec, envelope.get("ledger"))
        checks.check_time(walk, rec)
        checks.check_numbering(walk, rec)
        if rtype == RecordType.TICKET.value:
            problem = ticket_problem(body)
            if problem:
                self.fail(seq, "ticket", f"{checks.name_of(rec)} : {problem}")
            else:
                self.closures.since_day.add_ticket(body)
                if self.days is not None:
                    day = self.days[rec[checks.DATE]]
                    day.setdefault(self.till.ledger_id, RunningTotals()).add_ticket(body)
        elif rtype in (_DAY, _MONTH, _YEAR):
            self.closures.closure(seq, rtype, body, rec[checks.PREV])
        walk.advance(rec)

    def _introduce(self, rec: tuple[Any, ...], body: dict[str, Any]) -> bool:
        """A KEY record's key joins the ring; False when it cannot be read."""
        seq = rec[checks.SEQ]
        try:
            der = base64.b64decode(body["public_key"])
            self.keys.add(seq, body["key_id"], chain.load_public_der(der))
            self.ders[body["key_id"]] = der
        except (ValueError, KeyError, TypeError):
            self.fail(seq, "key", f"{checks.name_of(rec)} introduit une clé illisible.")
            return False
        if seq > 1 and not body.get("endorsed"):
            self.fail(seq, "key_unendorsed", say.unendorsed(seq, None))
        return True

    def key_in_force(self, seq: int) -> str | None:
        """The till's key in force at record ``seq``: the latest KEY record up to it."""
        at = bisect.bisect_right(self.key_changes, seq, key=lambda change: change[0])
        return self.key_changes[at - 1][1] if at else None

    def finish(self, session: Session) -> None:
        """What the chain cannot say on its own: the head cache, the keys, the uploads."""
        walk = self.walk
        self.report.closures += self.closures.count
        if (self.till.head_seq, self.till.head_hash) != (walk.prev_seq, walk.prev_hash):
            self.fail(
                None,
                "head",
                f"le serveur central indique avoir reçu jusqu'au n°{self.till.head_seq}, "
                f"mais sa copie de la chaîne s'arrête au n°{walk.prev_seq}.",
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
        key = self.keys.public.get(upload.key_id)
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
            grand_total_problems(body, previous.body if previous else None, fail)
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
        # A till's later Z of a day names its day in its body only (no period of its own).
        if (
            row is None
            or row.hash != ref["hash"]
            or row.record_type != _DAY
            or canonical.decode(row.canonical)["body"].get("period") != body["period"]
        ):
            fail(f"la clôture citée pour la caisse {till} n'est pas celle que la caisse a envoyée.")
        elif _tickets_after(session, ledger_id, body["period"], row.seq):
            fail(f"des tickets de la caisse {till} sont postérieurs à sa clôture citée.")


def _tickets_after(session: Session, ledger_id: str, day: str, seq: int) -> bool:
    """Whether a till sold on ``day`` after its closure ``seq`` (a later Z was due)."""
    found = session.scalar(
        select(TillRecord.seq)
        .where(
            TillRecord.ledger_id == ledger_id,
            TillRecord.record_type == RecordType.TICKET.value,
            TillRecord.business_date == day,
            TillRecord.seq > seq,
        )
        .limit(1)
    )
    return found is not None
