"""The ledger against the anchors kept outside it (``app.ledger.anchor``).

Every anchor it can reach — the anchor log beside the key, the OS keyring, the anchors
beside backup copies — says « record n°N of this ledger had hash H ». The ledger in place
is **behind** an anchor when it ends before N (rolled back to an earlier copy, cut
short), and **beside** it when it holds a record n°N with another hash (rewritten from
some point on: two versions of the ledger share numbers). Either is a finding, as is an
anchor whose signature fails or whose key is not one of this ledger's, and a missing
anchor log where the ledger says one was kept.

A journaled restore is the one legitimate way back: an anchor written before a RESTORE
event of the ledger, about a record after the restored copy's last one, belonged to the
file the restore replaced and is not held against the ledger.

Signatures are checked where they matter, and cheaply: for every anchor that contradicts
the ledger (a forged line is told from a rolled-back ledger), for the log's last line,
and for every anchor found outside the log. A log line that agrees with the ledger says
nothing the chain does not already say.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.ledger import anchor as anchors
from app.ledger import keys
from app.ledger.anchor import Anchor, LogLine
from app.ledger.chain import load_public_der
from app.ledger.verify.report import Finding, Report, count
from app.ledger.verify.scan import Keys
from app.ledger.verify.sources import PostgresReader, Reader

RESTORE_MARKER = b'"body":{"code":"RESTORE"'
KEY_IMPORT_MARKER = b'"body":{"code":"KEY_IMPORT"'
BACKUP_FOLDER = "backup_folder"  # the backup room's preference (app.ledger.backup)
LOG_LABEL = "le registre des ancres de ce poste"


@dataclass(frozen=True)
class _Restore:
    seq: int
    ts: str
    restored_seq: int


@dataclass(frozen=True)
class Elsewhere:
    """The head of this ledger as another system holds it (the central server, which
    checked the till's signature when it received it)."""

    label: str  # French: « le serveur central »
    seq: int
    hash: str
    ts: str


@dataclass(frozen=True)
class _Source:
    label: str  # French, for the findings: « le trousseau du système »
    lines: list[LogLine]
    check_all: bool  # check every signature (few anchors), or only where it matters


def _lines_of(anchor: Anchor) -> list[LogLine]:
    return [LogLine(1, anchor.seq, anchor.hash, anchor.ts, anchor.line())]


def check_anchors(
    conn: Reader,
    target: str,
    ledger_id: str,
    chain_keys: Keys,
    report: Report,
    elsewhere: Sequence[Elsewhere] = (),
) -> None:
    """Add the findings about the anchors of ``ledger_id`` to ``report``; ``elsewhere``:
    heads other systems hold, compared too. An incremental verification
    (``report.since_seq``) compares the log's lines from its checkpoint on, and its last."""
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()
    last = int(head[0]) if head and head[0] is not None else 0
    restores = _restores(conn)
    public = {key_id: load_public_der(der) for _seq, key_id, der in chain_keys}
    log = anchors.read_log(ledger_id)
    sources: list[_Source] = []
    known = None if isinstance(conn, PostgresReader) else anchors.places(ledger_id)
    in_place = known is None or target in known
    if log is None:
        if in_place:
            _missing_log(conn, target, ledger_id, last, report)
    else:
        lines, unreadable = log
        if unreadable:
            report.findings.append(
                Finding(
                    None,
                    "anchor",
                    f"{_capital(LOG_LABEL)} contient {count(len(unreadable))} ligne(s) "
                    f"illisible(s) (ligne n°{unreadable[0]}…) : il a été modifié à la main.",
                )
            )
        if lines and in_place:
            _late_start(conn, lines[0].seq, report)
        since = report.since_seq
        if since is not None and lines:
            lines = [line for line in lines[:-1] if line.seq > since] + lines[-1:]
        sources.append(_Source(LOG_LABEL, lines, False))
    kept = anchors.read_keyring(ledger_id)
    if kept is not None:
        sources.append(_Source("le trousseau de clés du système", _lines_of(kept), True))
    for folder in _backup_folders(conn, target):
        for path, found in anchors.read_beside(folder, ledger_id):
            label = f"l'ancre de la sauvegarde {path.name.removesuffix(anchors.BESIDE_SUFFIX)}"
            if found is None:
                report.findings.append(Finding(None, "anchor", f"{_capital(label)} est illisible."))
                continue
            sources.append(_Source(label, _lines_of(found), True))
    if not sources and not elsewhere:
        return
    seqs = {line.seq for s in sources for line in s.lines} | {e.seq for e in elsewhere}
    hashes = _hashes(conn, {seq for seq in seqs if seq <= last})
    for source in sources:
        _compare(source, ledger_id, last, hashes, restores, public, report, in_place)
    for other in elsewhere:
        _compare_elsewhere(other, last, hashes, restores, report)
    if restores and log is not None:
        report.notices.append(_restore_notice(restores))


def _compare(
    source: _Source,
    ledger_id: str,
    last: int,
    hashes: dict[int, str],
    restores: list[_Restore],
    public: dict[str, object],
    report: Report,
    in_place: bool,
) -> None:
    """``in_place``: the file verified is the one this computer writes the ledger to; any
    other (a backup copy) is behind the anchors by nature, which is then only said."""
    behind: Anchor | None = None
    beside: list[Anchor] = []
    forged: list[LogLine] = []
    foreign: list[Anchor] = []
    final = source.lines[-1] if source.lines else None
    for line in source.lines:
        if line.seq <= last and line.seq not in hashes:
            continue  # a record missing inside the chain (a gap, a purge) is the chain's
        contradicts = line.seq > last or hashes[line.seq] != line.hash
        if contradicts and _superseded(line.seq, line.ts, restores):
            continue
        if not (contradicts or source.check_all or line is final):
            continue
        anchor = Anchor.parse(line.text)
        if anchor is None or (anchor.seq, anchor.hash) != (line.seq, line.hash):
            forged.append(line)
            continue
        key = public.get(anchor.key_id)
        if anchor.ledger_id != ledger_id or key is None:
            foreign.append(anchor)
            continue
        if not anchor.signature_ok(key):  # type: ignore[arg-type]
            forged.append(line)
            continue
        if anchor.seq > last:
            if behind is None or anchor.seq > behind.seq:
                behind = anchor
        elif contradicts:
            beside.append(anchor)
    label = source.label
    if behind is not None and not in_place:
        report.notices.append(
            f"Ce fichier n'est pas le journal en place sur ce poste : c'en est une copie, qui "
            f"s'arrête à l'enregistrement n°{last} ; {label} atteste l'enregistrement "
            f"n°{behind.seq} du {_day(behind.ts)}."
        )
    elif behind is not None:
        report.findings.append(
            Finding(
                behind.seq,
                "anchor",
                f"journal ramené en arrière : il s'arrête à l'enregistrement n°{last}, alors "
                f"que {label} atteste, signé par la clé du commerce, l'enregistrement "
                f"n°{behind.seq} du {_day(behind.ts)}. Des enregistrements ont été supprimés, "
                "ou le fichier a été remplacé par une copie plus ancienne sans passer par la "
                "restauration de Comptoir.",
            )
        )
    if beside:
        first = min(beside, key=lambda a: a.seq)
        report.findings.append(
            Finding(
                first.seq,
                "anchor",
                f"journal réécrit : l'enregistrement n°{first.seq} n'est pas celui que "
                f"{label} atteste, signé par la clé du commerce, depuis le {_day(first.ts)} "
                f"({count(len(beside))} enregistrement(s) en désaccord). Deux versions du "
                "journal portent les mêmes numéros : celle-ci n'est pas celle qui a été "
                "enregistrée à l'origine.",
            )
        )
    for bad in forged[:1]:
        report.findings.append(
            Finding(
                bad.seq,
                "anchor",
                f"{_capital(label)} contient une ancre (enregistrement n°{bad.seq}) dont la "
                "signature est fausse : elle a été modifiée ou fabriquée"
                + (f", comme {count(len(forged) - 1)} autre(s)." if len(forged) > 1 else "."),
            )
        )
    for anchor in foreign[:1]:
        report.findings.append(
            Finding(
                anchor.seq,
                "anchor",
                f"{_capital(label)} contient une ancre (enregistrement n°{anchor.seq}) qui "
                "n'est pas signée par une clé de ce journal"
                + (f", comme {count(len(foreign) - 1)} autre(s)." if len(foreign) > 1 else "."),
            )
        )


def _compare_elsewhere(
    other: Elsewhere, last: int, hashes: dict[int, str], restores: list[_Restore], report: Report
) -> None:
    if other.seq <= last and other.seq not in hashes:
        return
    if _superseded(other.seq, other.ts, restores):
        return
    if other.seq > last:
        report.findings.append(
            Finding(
                other.seq,
                "anchor",
                f"journal ramené en arrière : il s'arrête à l'enregistrement n°{last}, alors "
                f"que {other.label} a reçu l'enregistrement n°{other.seq} le "
                f"{_day(other.ts)}.",
            )
        )
    elif hashes[other.seq] != other.hash:
        report.findings.append(
            Finding(
                other.seq,
                "anchor",
                f"journal réécrit : l'enregistrement n°{other.seq} n'est pas celui que "
                f"{other.label} a reçu le {_day(other.ts)}. Deux versions du journal portent "
                "les mêmes numéros : celle-ci n'est pas celle qui a été enregistrée à l'origine.",
            )
        )


def _superseded(seq: int, ts: str, restores: list[_Restore]) -> bool:
    """Whether a journaled restore, later than the anchor, put the ledger back before it."""
    return any(r.restored_seq < seq and ts <= r.ts for r in restores)


def _restores(conn: Reader) -> list[_Restore]:
    found = []
    for seq, data in conn.execute(_events_sql(conn), (RESTORE_MARKER,)):
        try:
            envelope = json.loads(bytes(data))
            detail = envelope["body"]["detail"]
            found.append(_Restore(int(seq), str(envelope["ts"]), int(detail["backup_last_seq"])))
        except (ValueError, KeyError, TypeError):
            continue  # the chunk scan reports a corrupted record
    return found


def _events_sql(conn: Reader) -> str:
    if isinstance(conn, PostgresReader):
        return (
            "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
            "AND position(?::bytea in canonical) > 0 ORDER BY seq"
        )
    return (
        "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
        "AND instr(canonical, ?) > 0 ORDER BY seq"
    )


_LOOKUPS = 500  # records looked up by one query


def _hashes(conn: Reader, seqs: set[int]) -> dict[int, str]:
    """The ledger's hash of each of ``seqs``: looked up one by one where they are sparse
    (a log line per transaction of many sales), read in one pass over their range where
    they are dense."""
    if not seqs:
        return {}
    lo, hi = min(seqs), max(seqs)
    if len(seqs) * 8 >= hi - lo + 1:
        rows = conn.execute("SELECT seq, hash FROM journal WHERE seq BETWEEN ? AND ?", (lo, hi))
        return {int(seq): str(link) for seq, link in rows if seq in seqs}
    wanted = sorted(seqs)
    out = {}
    for start in range(0, len(wanted), _LOOKUPS):
        part = tuple(wanted[start : start + _LOOKUPS])
        marks = ", ".join("?" * len(part))
        for seq, link in conn.execute(
            f"SELECT seq, hash FROM journal WHERE seq IN ({marks})", part
        ):
            out[int(seq)] = str(link)
    return out


def _missing_log(conn: Reader, target: str, ledger_id: str, last: int, report: Report) -> None:
    """The ledger says it was anchored from some record on, and the log is gone. On a
    PostgreSQL ledger several computers write: this one may never have kept a log."""
    if isinstance(conn, PostgresReader) or keys.load_key(ledger_id) is None:
        return  # on another computer than the shop's, no log is expected
    row = conn.execute(
        "SELECT value FROM shop_preference WHERE key = ?", (anchors.ANCHORED_SINCE,)
    ).fetchone()
    if row is None or not str(row[0]).isdigit() or int(row[0]) > last:
        return
    report.findings.append(
        Finding(
            None,
            "anchor",
            f"le registre des ancres de ce journal est introuvable "
            f"({anchors.log_path(ledger_id)}) alors que ce poste en tient un depuis "
            f"l'enregistrement n°{row[0]} : il a été supprimé ou déplacé. Un retour en arrière "
            "ou une réécriture du journal ne peut plus être écarté sur ce poste ; comparez "
            "avec les tickets Z imprimés et les sauvegardes.",
        )
    )


def _late_start(conn: Reader, first: int, report: Report) -> None:
    """A log that begins after the record the ledger says anchoring began with was begun
    again: on a new computer (a key imported or replaced, said by the ledger itself), or
    after it was deleted. Said as a remark: a crash right after the first anchored record
    also delays the first line."""
    if isinstance(conn, PostgresReader):
        return
    row = conn.execute(
        "SELECT value FROM shop_preference WHERE key = ?", (anchors.ANCHORED_SINCE,)
    ).fetchone()
    if row is None or not str(row[0]).isdigit() or int(row[0]) >= first:
        return
    moved = conn.execute(
        "SELECT COUNT(*) FROM journal WHERE seq > ? AND seq <= ? AND (record_type = 'KEY' "
        "OR (record_type = 'EVENT' AND instr(canonical, ?) > 0))",
        (int(row[0]), first, KEY_IMPORT_MARKER),
    ).fetchone()
    if moved and moved[0]:
        return
    report.notices.append(
        f"Le registre des ancres de ce poste ne commence qu'à l'enregistrement n°{first}, "
        f"alors que le journal est ancré depuis le n°{row[0]} : il a été recommencé "
        "(supprimé puis récrit). Les enregistrements d'avant ne sont comparés qu'aux "
        "sauvegardes, au trousseau et au serveur central."
    )


def _backup_folders(conn: Reader, target: str) -> Iterable[Path]:
    """Where this ledger's backups go: the chosen folder, and the default one beside a
    SQLite file (``<stem>-sauvegardes``, as ``app.ledger.backup`` names it)."""
    folders: list[Path] = []
    try:
        row = conn.execute(
            "SELECT value FROM shop_preference WHERE key = ?", (BACKUP_FOLDER,)
        ).fetchone()
    except Exception:
        row = None
    if row is not None and str(row[0]).strip():
        folders.append(Path(str(row[0]).strip()).expanduser())
    if not isinstance(conn, PostgresReader):
        path = Path(target)
        folders.append(path.with_name(f"{path.stem}-sauvegardes"))
    return [folder for folder in dict.fromkeys(folders) if folder.is_dir()]


def _restore_notice(restores: list[_Restore]) -> str:
    seqs = ", ".join(f"n°{r.seq}" for r in restores)
    return (
        f"Restauration(s) journalisée(s) ({seqs}) : les ancres du fichier remplacé, "
        "postérieures à la copie restaurée, ne sont plus comparées ; elles restent dans le "
        "registre des ancres."
    )


def _day(ts: str) -> str:
    """« 21/11/2026 » from a canonical UTC timestamp (the date is enough here)."""
    return f"{ts[8:10]}/{ts[5:7]}/{ts[0:4]}" if len(ts) >= 10 else ts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
