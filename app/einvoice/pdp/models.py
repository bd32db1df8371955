"""Tables of the platform connector. None of them is fiscal: the ledger record of an
invoice is the reference, these only say where its transmission stands and what the
platform reported back. Times are UTC ISO strings (``2026-03-02T08:00:00.000000Z``)."""

from __future__ import annotations

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base

QUEUED = "queued"
SENDING = "sending"
DEPOSITED = "deposited"
FAILED = "failed"
# The buyer is not in the e-invoicing directory (yet): the invoice waits, asked again at
# each sync, and leaves once the directory knows its buyer.
UNLISTED = "unlisted"
OUTBOX_STATES = (QUEUED, SENDING, DEPOSITED, FAILED, UNLISTED)

# The platform's acknowledgement of a deposited flow (Flow API ``FlowAckStatus``).
ACK_PENDING = "Pending"
ACK_OK = "Ok"
ACK_ERROR = "Error"

# Where an outbox item goes: the shop's plateforme agréée (Flow API), or Chorus Pro for
# public-sector buyers.
PDP = "pdp"
CHORUS = "chorus"
CHANNELS = (PDP, CHORUS)

# What an outbox item carries: the invoice itself, or the 212 "Encaissée" status of an
# invoice whose VAT falls due on payment (a CDAR message, to the PA only).
INVOICE_ITEM = "invoice"
CASHED_ITEM = "cashed"
ITEM_KINDS = (INVOICE_ITEM, CASHED_ITEM)

RECEIVED = "received"
APPROVED = "approved"
DISPUTED = "disputed"
REFUSED = "refused"
TAKEN = "taken"  # 204 Prise en charge
PART_APPROVED = "part_approved"  # 206 Approuvée partiellement
SUSPENDED = "suspended"  # 208 Suspendue
PAYMENT_SENT = "payment_sent"  # 211 Paiement transmis
INCOMING_STATES = (
    RECEIVED, APPROVED, DISPUTED, REFUSED, TAKEN, PART_APPROVED, SUSPENDED, PAYMENT_SENT
)  # fmt: skip


class OutboxItem(Base):
    """One issued invoice to deposit on the platform, or one status message about it.

    ``tracking_id`` is fixed when the invoice is queued and sent with every attempt: it
    is how a lost answer is recognised afterwards. ``sending`` means an attempt was
    started and its outcome is unknown until it is recorded (or searched for).
    ``channel`` says which platform takes it; it never changes once queued, so that a
    retry always looks for the earlier attempt where that attempt went. ``kind`` says
    what is deposited: an invoice has at most one item of each kind, so a status queued
    twice keeps its first ``tracking_id`` and is still sent only once.
    """

    __tablename__ = "pdp_outbox"
    __table_args__ = (
        Index("ix_pdp_outbox_due", "state", "next_attempt_at"),
        UniqueConstraint("invoice_seq", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_seq: Mapped[int] = mapped_column(Integer)
    doc_number: Mapped[str] = mapped_column(String(35))
    tracking_id: Mapped[str] = mapped_column(String(36), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # The exact bytes queued: a rebuilt PDF would differ (dates in its metadata) and the
    # platform could no longer recognise a resubmission. Cleared once deposited.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[str] = mapped_column(String(27))
    last_error: Mapped[str | None] = mapped_column(String)
    flow_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[str] = mapped_column(String(27))
    updated_at: Mapped[str] = mapped_column(String(27))
    channel: Mapped[str] = mapped_column(String(8), default=PDP, server_default=PDP)
    # The platform's own status code last read by polling (Chorus Pro), so that an
    # unchanged status is not stored twice and a final one is no longer asked for.
    platform_status: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8), default=INVOICE_ITEM, server_default=INVOICE_ITEM)
    # The platform's acknowledgement once deposited: Pending until read as Ok or Error
    # (an Error turns the item ``failed`` with the platform's details in ``last_error``).
    ack_status: Mapped[str | None] = mapped_column(String(8))


class ReportAcknowledgement(Base):
    """What the platform, then the PPF, said of an e-reporting flow: the acknowledgement
    (Pending, Ok, Error) and the PPF's 300 Déposé / 301 Rejeté, with the reason."""

    __tablename__ = "pdp_report_ack"

    flow_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(40), index=True)
    ack_status: Mapped[str] = mapped_column(String(8), default=ACK_PENDING)
    ppf_code: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[str] = mapped_column(String, default="")
    updated_at: Mapped[str] = mapped_column(String(27))


class InvoiceLifecycle(Base):
    """A lifecycle status (CDAR) the platform reported for one of our invoices."""

    __tablename__ = "pdp_invoice_lifecycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_seq: Mapped[int | None] = mapped_column(Integer, index=True)
    doc_number: Mapped[str] = mapped_column(String(35), index=True)
    code: Mapped[str] = mapped_column(String(3))
    label: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String, default="")
    flow_id: Mapped[str] = mapped_column(String(36), unique=True)


class SyncCursor(Base):
    """Where the last search of a kind of flow stopped (the platform's ``updatedAt``)."""

    __tablename__ = "pdp_sync_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(40))


class IncomingInvoice(Base):
    """A supplier invoice received through the platform, as received, and our answer."""

    __tablename__ = "pdp_incoming_invoice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(36), unique=True)
    received_at: Mapped[str] = mapped_column(String(32))
    syntax: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    original: Mapped[bytes] = mapped_column(LargeBinary)
    supplier_name: Mapped[str] = mapped_column(String(200), default="")
    supplier_siren: Mapped[str] = mapped_column(String(20), default="")
    number: Mapped[str] = mapped_column(String(35), default="")
    # BT-3 (380 invoice, 381 credit note, 389 self-billed…) and the buyer: a self-billed
    # invoice is drawn up by the shop's customer, in the shop's name.
    type_code: Mapped[str] = mapped_column(String(3), default="380", server_default="380")
    buyer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    issue_date: Mapped[str] = mapped_column(String(10), default="")
    total_cents: Mapped[int | None] = mapped_column(Integer)
    validation: Mapped[str] = mapped_column(String, default="")
    valid: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    reason: Mapped[str] = mapped_column(String, default="")
