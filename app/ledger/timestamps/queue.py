"""Time-stamp tokens kept with the ledger, and the queue of what still needs one.

A token arrives after the record it stamps (a closure's hash, an archive's manifest
digest), so it cannot be inside the chain: it is kept in ``time_stamp``, beside it, one
row per stamped record, never updated nor deleted. A token proves itself (``token``),
the table needs no signature. What has no token yet is the queue: every closure and
every archive record without a row, oldest first, stamped when a TSA answers (after a
closure, at start, ``comptoir tsa stamp``, the Réglages button).

The TSA's address is a preference; setting or clearing it is journaled (a ``TSA_SET``
event), so that verification knows from when tokens are due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import LargeBinary, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.events import EventCode, log_event
from app.ledger.models import Base, JournalRecord
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.records import RecordType
from app.ledger.timestamps.token import Stamp, check_response

TSA_URL = "tsa_url"
TIMESTAMP_APPEND_ONLY = ("time_stamp",)
STAMPED_TYPES = (
    RecordType.DAY_CLOSURE.value,
    RecordType.MONTH_CLOSURE.value,
    RecordType.YEAR_CLOSURE.value,
    RecordType.ARCHIVE.value,
)


class TimeStamp(Base):
    """The TSA's answer (TimeStampResp, DER) for one record of the chain."""

    __tablename__ = "time_stamp"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))  # what was stamped (hex SHA-256)
    response: Mapped[bytes] = mapped_column(LargeBinary)
    gen_time: Mapped[str] = mapped_column(String(27))  # the TSA's time, UTC
    tsa_url: Mapped[str] = mapped_column(String)
    stored_at: Mapped[str] = mapped_column(String(27))


@dataclass(frozen=True)
class Target:
    """A record that needs a token: a closure (its hash) or an archive (its manifest)."""

    seq: int
    record_type: str
    digest: str
    ts: str  # the record's own time (UTC)
    label: str  # « clôture 2026-03-14 », « archive 2026 »
    archive_file: str | None = None


@dataclass(frozen=True)
class StampOutcome:
    """What a round of stamping did. ``error``: why the rest waits (French), or None."""

    stamped: tuple[Target, ...] = ()
    pending: int = 0
    error: str | None = None
    archive_warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        done = len(self.stamped)
        parts = []
        if done:
            parts.append(
                f"{done} horodatage{'s' if done > 1 else ''} obtenu{'s' if done > 1 else ''}"
            )
        if self.pending:
            parts.append(f"{self.pending} en attente")
        if not parts:
            parts.append("rien à horodater")
        text = " ; ".join(parts)
        if self.error:
            text += f" ({self.error})"
        return text[:1].upper() + text[1:] + "."


def target_of(row: JournalRecord) -> Target:
    body = canonical.decode(row.canonical)["body"]
    if row.record_type == RecordType.ARCHIVE.value:
        return Target(
            row.seq,
            row.record_type,
            body["manifest_sha256"],
            row.ts,
            f"archive {body['period']}",
            body["file"],
        )
    return Target(row.seq, row.record_type, row.hash, row.ts, f"clôture {body['period']}")


def pending(session: Session) -> list[Target]:
    """Closures and archives without a token, oldest first."""
    stamped = select(TimeStamp.seq)
    rows = session.scalars(
        select(JournalRecord)
        .where(JournalRecord.record_type.in_(STAMPED_TYPES), JournalRecord.seq.not_in(stamped))
        .order_by(JournalRecord.seq)
    )
    return [target_of(row) for row in rows]


def store_token(
    session: Session, target: Target, response: bytes, url: str, *, nonce: int | None = None
) -> Stamp:
    """Check the answer for ``target`` and keep it; raises TokenInvalid, keeps nothing then."""
    stamp = check_response(response, target.digest, nonce=nonce)
    session.add(
        TimeStamp(
            seq=target.seq,
            digest=target.digest,
            response=response,
            gen_time=_iso(stamp.gen_time),
            tsa_url=url,
            stored_at=_iso(datetime.now(UTC)),
        )
    )
    session.flush()
    return stamp


def stamped_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TimeStamp)) or 0


def token_of(session: Session, seq: int) -> TimeStamp | None:
    return session.get(TimeStamp, seq)


def tsa_url(session: Session) -> str:
    return get_preference(session, TSA_URL).strip()


def check_tsa_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url) if url.isascii() and url.isprintable() and " " not in url else None
        hostname = parts.hostname if parts is not None and parts.port != 0 else None
    except ValueError:  # a port that is not a number
        parts, hostname = None, None
    if parts is None or parts.scheme not in ("http", "https") or not hostname:
        raise InvalidInput(
            "Adresse de l'autorité d'horodatage invalide : elle commence par http:// ou "
            "https://, suivi du nom du serveur (par exemple https://freetsa.org/tsr)."
        )
    return url


def set_tsa_url(session: Session, url: str, *, operator: str) -> str:
    """Choose (or, with "", stop using) the time-stamping authority; journaled."""
    require(session, operator, Permission.EDIT_SETTINGS)
    url = check_tsa_url(url)
    if url == tsa_url(session):
        return url
    set_preference(session, TSA_URL, url)
    log_event(session, EventCode.TSA_SET, operator=operator, url=url)
    return url


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
