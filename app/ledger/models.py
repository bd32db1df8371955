"""SQLAlchemy models of the ledger.

Fiscal tables (``FISCAL_TABLES``) are append-only: SQLite triggers created by the first
migration abort any UPDATE or DELETE on them. Their columns besides ``canonical`` are
copies made for querying; the canonical bytes are what is hashed and signed, and
verification checks that every copy agrees with them.
"""

from __future__ import annotations

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LedgerMeta(Base):
    """One row written when the ledger is created: who it is and what it is for."""

    __tablename__ = "ledger_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))  # real | training | demo
    created_at: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """Public keys introduced by KEY records (an index; the record is the authority)."""

    __tablename__ = "signing_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    registered_seq: Mapped[int] = mapped_column(ForeignKey("journal.seq"))


class JournalRecord(Base):
    """One link of the chain."""

    __tablename__ = "journal"
    __table_args__ = (
        UniqueConstraint("record_type", "number"),
        UniqueConstraint("record_type", "period"),
        Index("ix_journal_sale_seq", "is_sale", "seq"),
        Index("ix_journal_ref_seq", "ref_seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_type: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    ts: Mapped[str] = mapped_column(String(27))  # UTC, microseconds, ends with Z
    business_date: Mapped[str] = mapped_column(String(10))  # shop-local YYYY-MM-DD
    till: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(64))
    is_sale: Mapped[bool] = mapped_column(default=False)
    ref_seq: Mapped[int | None] = mapped_column(ForeignKey("journal.seq"))
    period: Mapped[str | None] = mapped_column(String(10))
    total_cents: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16))
    canonical_version: Mapped[int] = mapped_column(Integer)
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class JournalVat(Base):
    """VAT breakdown of a sale record, per rate (copied from the canonical body)."""

    __tablename__ = "journal_vat"
    # Read by record range, always: the rows kept in the order of their key (SQLite).
    __table_args__ = ({"sqlite_with_rowid": False},)

    seq: Mapped[int] = mapped_column(ForeignKey("journal.seq"), primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_cents: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)


class JournalPayment(Base):
    """Payments applied by a sale record (copied from the canonical body)."""

    __tablename__ = "journal_payment"
    __table_args__ = ({"sqlite_with_rowid": False},)

    seq: Mapped[int] = mapped_column(ForeignKey("journal.seq"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)


FISCAL_TABLES = ("ledger_meta", "signing_key", "journal", "journal_vat", "journal_payment")


class PurgeAuthorisation(Base):
    """Holds one row only inside a purge's transaction: the range and year whose records the
    DELETE guards of the fiscal tables then let through (migration 0007,
    ``app.ledger.archive.purge``). Empty at every other moment, so that the guards refuse
    every DELETE."""

    __tablename__ = "purge_authorisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[str] = mapped_column(String(4))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    # The PURGE record written with it (migration 0011): without it, no authorisation.
    purge_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PurgedNumber(Base):
    """Per record type, the highest number a purge removed: ``journal.next_number`` goes on
    from it, so that a purged number is never given again. The PURGE events are the
    authority; verification reports a number given twice."""

    __tablename__ = "purged_number"

    record_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
