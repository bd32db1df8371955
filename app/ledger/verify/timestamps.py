"""Date certaine: each closure and archive of the ledger against its RFC 3161 token.

Tokens are due for every closure and archive once a time-stamping authority has been
chosen (a ``TSA_SET`` event naming one) at the record's time or since. Each token is
checked offline (``app.ledger.timestamps.token``): its imprint is the record's hash (an
archive's: its manifest digest), its signature verifies against the certificate it
carries, which has the timeStamping purpose, and the TSA's time is not before the record
it stamps (the last of the records a closure covers), give or take a clock margin.

A missing token is only *waiting* — a remark, not a finding — while the shop may simply
have been offline: the record is among the newest (no later record has a token: the queue
is stamped oldest first, so a gap before a stamped record is a token removed) and less
than ``WAITING_GRACE`` older than the ledger's last record. Past that it is a finding.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from app.ledger.timestamps.queue import STAMPED_TYPES
from app.ledger.timestamps.token import TokenInvalid, check_response
from app.ledger.verify.report import Finding, count, record_name
from app.ledger.verify.sources import PostgresReader, Reader, connect, read_errors

# Clocks differ: a token is "before" what it stamps only past this margin.
CLOCK_MARGIN = timedelta(minutes=2)
# How long a stamp may wait in the queue (the shop offline) before its absence is a finding.
WAITING_GRACE = timedelta(days=7)
_MARKER = b'"code":"TSA_SET"'


def time_stamp_findings(path: str) -> tuple[list[Finding], list[str]]:
    """(findings, notices) for the ledger at ``path`` (resolved, as ``verify_ledger``)."""
    conn = connect(path)
    try:
        return _check(conn)
    finally:
        conn.close()


def _check(conn: Reader) -> tuple[list[Finding], list[str]]:
    configured = _configurations(conn)
    try:
        tokens = {
            seq: bytes(response)
            for seq, response in conn.execute("SELECT seq, response FROM time_stamp")
        }
    except read_errors(conn):  # a ledger older than time-stamps
        tokens = {}
    if not configured and not tokens:
        return [], []
    marks = ", ".join("?" * len(STAMPED_TYPES))
    rows = conn.execute(
        "SELECT seq, record_type, number, ts, hash, canonical FROM journal "
        f"WHERE record_type IN ({marks}) ORDER BY seq",
        STAMPED_TYPES,
    )
    rows = list(rows)
    head = conn.execute("SELECT ts FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    newest = _moment(head[0]) if head else None
    last_stamped = max((row[0] for row in rows if row[0] in tokens), default=0)
    findings: list[Finding] = []
    waiting: list[str] = []
    sound = 0
    authorities: set[str] = set()
    for seq, rtype, number, ts, record_hash, data in rows:
        name = record_name(seq, rtype, number)
        response = tokens.get(seq)
        if response is None:
            since = _due_since(configured, seq)
            if since is None:
                continue
            if seq > last_stamped and newest is not None and newest - _moment(ts) <= WAITING_GRACE:
                waiting.append(name)
            else:
                findings.append(Finding(seq, "tsa_missing", _missing(name, since)))
            continue
        digest = record_hash
        if rtype == "ARCHIVE":
            digest = json.loads(bytes(data))["body"].get("manifest_sha256", "")
        try:
            stamp = check_response(response, digest)
        except TokenInvalid as exc:
            findings.append(Finding(seq, "tsa_invalid", f"l'horodatage de {name} : {exc.message}"))
            continue
        recorded = _moment(ts)
        if stamp.gen_time < recorded - CLOCK_MARGIN:
            findings.append(
                Finding(
                    seq,
                    "tsa_early",
                    f"l'horodatage de {name} est daté du {stamp.gen_time:%d/%m/%Y %H:%M:%S} UTC, "
                    f"avant les enregistrements qu'il couvre ({recorded:%d/%m/%Y %H:%M:%S} UTC) : "
                    "il ne peut pas leur appartenir.",
                )
            )
            continue
        sound += 1
        authorities.add(stamp.tsa)
    notices = []
    if waiting:
        notices.append(
            f"En attente d'horodatage ({count(len(waiting))}) : {waiting[0]}"
            f"{' et les suivants' if len(waiting) > 1 else ''} ; l'autorité n'a pas encore "
            "répondu (« comptoir tsa stamp » le redemande). Passé "
            f"{WAITING_GRACE.days} jours, c'est une anomalie."
        )
    if sound:
        by = ", ".join(sorted(authorities))
        notices.append(
            f"{count(sound)} horodatage{'s' if sound > 1 else ''} RFC 3161 vérifié"
            f"{'s' if sound > 1 else ''} hors ligne (autorité : {by})."
        )
    return findings, notices


def _moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _configurations(conn: Reader) -> list[tuple[int, bool]]:
    """(seq, an authority chosen) of each TSA_SET event, in chain order."""
    if isinstance(conn, PostgresReader):
        sql = (
            "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
            "AND position(?::bytea in canonical) > 0 ORDER BY seq"
        )
    else:
        sql = (
            "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
            "AND instr(canonical, ?) > 0 ORDER BY seq"
        )
    found = []
    for seq, data in conn.execute(sql, (_MARKER,)):
        try:
            body = json.loads(bytes(data))["body"]
        except (ValueError, KeyError):
            continue  # the chain check reports a corrupted record
        if body.get("code") == "TSA_SET":
            found.append((seq, bool((body.get("detail") or {}).get("url"))))
    return found


def _due_since(configured: list[tuple[int, bool]], seq: int) -> int | None:
    """The event from which a token is due for record ``seq``: an authority in force at
    its time, or chosen since; None when none was."""
    in_force = None
    for event_seq, chosen in configured:
        if event_seq < seq:
            in_force = event_seq if chosen else None
        elif chosen:
            return in_force if in_force is not None else event_seq
    return in_force


def _missing(name: str, since: int) -> str:
    return (
        f"{name} n'a pas d'horodatage alors qu'une autorité d'horodatage est choisie "
        f"(enregistrement n°{since}) : il a été supprimé, ou il attend depuis plus de "
        f"{WAITING_GRACE.days} jours (« comptoir tsa stamp » le demande)."
    )
