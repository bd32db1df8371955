"""Tables of a central ledger: every till's chain, as uploaded.

A central ledger (``ledger_meta.kind`` = ``central``) is an ordinary Comptoir ledger whose
own chain holds the shop-level closures, the upload events and the shop's settings. These
tables sit beside it and hold the tills' records exactly as each till signed them:

- ``till_record`` is one row per record of a till's chain (the canonical bytes, hash and
  signature as the till stored them; the other columns are copies of the envelope);
- ``till_key`` the public keys introduced by the tills' KEY records;
- ``till_upload`` one row per upload batch, signed by the till's own key (the central's
  key is never needed to upload: see ``central_upload.upload_statement``);
- ``till_chain`` one row per till, made by its first upload: who it is, and the head of
  its uploaded chain.

``till_record``, ``till_key`` and ``till_upload`` are append-only (triggers abort UPDATE
and DELETE, as on the fiscal tables). ``till_chain.head_seq``/``head_hash`` is the one
value that changes: a cache of the last ``till_record`` row of that till, updated in the
transaction that inserts the records (under ``SELECT ... FOR UPDATE`` on that row, which
serialises the uploads of one till), and checked against ``till_record`` by verification.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base

CENTRAL_KIND = "central"
# Append-only like the fiscal tables (see FISCAL_TABLES); till_chain holds the mutable head.
CENTRAL_APPEND_ONLY = ("till_record", "till_key", "till_upload")


class TillChain(Base):
    """A till registered with the central ledger, and the head of its uploaded chain."""

    __tablename__ = "till_chain"

    ledger_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    till_id: Mapped[str] = mapped_column(String(32), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    head_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[str] = mapped_column(String(27))


class TillRecord(Base):
    """One record of a till's chain, as the till signed it."""

    __tablename__ = "till_record"
    __table_args__ = (
        Index("ix_till_record_type_number", "ledger_id", "record_type", "number"),
        Index("ix_till_record_type_date", "record_type", "business_date"),
    )

    ledger_id: Mapped[str] = mapped_column(ForeignKey("till_chain.ledger_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_type: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    ts: Mapped[str] = mapped_column(String(27))
    business_date: Mapped[str] = mapped_column(String(10))
    till: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(64))
    is_sale: Mapped[bool] = mapped_column(default=False)
    period: Mapped[str | None] = mapped_column(String(10))
    total_cents: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16))
    canonical_version: Mapped[int] = mapped_column(Integer)
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class TillKey(Base):
    """A till's public key, copied from the KEY record that introduced it."""

    __tablename__ = "till_key"

    ledger_id: Mapped[str] = mapped_column(ForeignKey("till_chain.ledger_id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    registered_seq: Mapped[int] = mapped_column(Integer)


class TillUpload(Base):
    """One upload batch: which records of which till, signed by that till's key in force
    at ``to_seq`` (``key_id``) over the statement of the other columns."""

    __tablename__ = "till_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger_id: Mapped[str] = mapped_column(ForeignKey("till_chain.ledger_id"), index=True)
    from_seq: Mapped[int] = mapped_column(Integer)
    to_seq: Mapped[int] = mapped_column(Integer)
    records: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[str] = mapped_column(String(27))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
