"""Preferences kept with the ledger but not fiscal, and the till's own name.

The table holds whatever each layer needs to remember on this ledger (backup folder,
archive folder, central server, receipt texts, printer...); each layer declares its own
keys beside the code that reads them. The ledger's own is the till id: it is signed into
every record, so it is read from here when a ledger opens, never from a front-end."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.errors import InvalidInput
from app.ledger.models import Base
from app.ledger.operators import Permission, require

TILL_ID = "till_id"
DEFAULT_TILL_ID = "CAISSE-1"


class ShopPreference(Base):
    """Non-fiscal preferences kept with the ledger: receipt texts, printer, folders."""

    __tablename__ = "shop_preference"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String)


def get_preference(session: Session, key: str, default: str = "") -> str:
    row = session.get(ShopPreference, key)
    return row.value if row is not None else default


def set_preference(session: Session, key: str, value: str) -> None:
    session.merge(ShopPreference(key=key, value=value))
    session.flush()


def stored_till_id(session: Session) -> str | None:
    """The till id recorded in this ledger, None when none was ever set."""
    row = session.get(ShopPreference, TILL_ID)
    return row.value if row is not None else None


def till_id(session: Session) -> str:
    """The identifier of this till, printed on tickets and recorded on every record."""
    return stored_till_id(session) or DEFAULT_TILL_ID


def check_till_id(value: str) -> str:
    value = " ".join(str(value).split()).upper()
    if not value or len(value) > 32 or not all(c.isalnum() or c in "-_" for c in value):
        raise InvalidInput("Identifiant de caisse : 1 à 32 lettres, chiffres, tirets ou soulignés.")
    return value


def save_till_id(session: Session, value: str, *, operator: str) -> str:
    """Rename this till. The open ledger signs with the new name once the transaction
    commits (``Ledger.transaction``); a rolled-back rename leaves it as it was."""
    require(session, operator, Permission.EDIT_SETTINGS)
    value = check_till_id(value)
    set_preference(session, TILL_ID, value)
    session.info["till_id"] = value
    return value
