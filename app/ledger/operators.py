"""Operators and what their role lets them do: checked by every service that acts.

The ledger signs an operator's name into each record; the role that allows the act is
read here, from the same ledger, by the service that appends it — never taken from a
front-end. A ledger with no operator yet (just created, before its first-run setup, or a
demonstration ledger) has no roles to check: every act is allowed, under the name given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.errors import ComptoirError
from app.ledger.models import Base


class Operator(Base):
    """Operators who log in at the till. PINs are stored as salted scrypt hashes."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # cashier | manager | accountant
    pin_salt: Mapped[bytes] = mapped_column(LargeBinary)
    pin_hash: Mapped[bytes] = mapped_column(LargeBinary)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(String(27))
    active: Mapped[bool] = mapped_column(default=True)


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    ACCOUNTANT = "accountant"

    @property
    def label(self) -> str:
        return {"cashier": "Caissier", "manager": "Gérant", "accountant": "Comptable"}[self]


class Permission(StrEnum):
    SELL = "sell"
    CORRECT = "correct"  # cancel, refund
    CLOSE_DAY = "close_day"
    CLOSE_PERIOD = "close_period"  # month, year, their archives, a purge
    EDIT_CATALOG = "edit_catalog"
    EDIT_SETTINGS = "edit_settings"  # fiscal identity, VAT rates, operators
    READ_ALL = "read_all"
    SUPERVISE_TRAINING = "supervise_training"  # answer for trainees

    @property
    def act(self) -> str:
        """What the permission allows, as the end of « n'a pas le droit de … »."""
        return {
            "sell": "encaisser",
            "correct": "annuler ou rembourser un ticket",
            "close_day": "clôturer une journée",
            "close_period": "clôturer un mois ou un exercice, l'archiver ou le purger",
            "edit_catalog": "modifier le catalogue",
            "edit_settings": "modifier les réglages",
            "read_all": "consulter le journal",
            "supervise_training": "encadrer le mode formation",
        }[self]


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASHIER: frozenset({Permission.SELL, Permission.CLOSE_DAY}),
    Role.MANAGER: frozenset(Permission),
    Role.ACCOUNTANT: frozenset({Permission.READ_ALL}),
}


class PermissionDenied(ComptoirError):
    pass


@dataclass(frozen=True)
class OperatorInfo:
    id: int
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.name} ({self.role.label.lower()}) n'a pas le droit {_of(permission.act)}."
            )


def _of(act: str) -> str:
    """« de clôturer », « d'encaisser »."""
    return f"d'{act}" if act[0] in "aeiouéèêh" else f"de {act}"


def find_operator(session: Session, name: str) -> OperatorInfo | None:
    """The active operator of that name, None if there is none."""
    row = session.execute(
        select(Operator.id, Operator.name, Operator.role).where(
            Operator.name == name, Operator.active.is_(True)
        )
    ).first()
    return OperatorInfo(row.id, row.name, Role(row.role)) if row is not None else None


def has_operators(session: Session) -> bool:
    return session.scalar(select(Operator.id).limit(1)) is not None


def require(session: Session, operator: str, permission: Permission) -> None:
    """Refuse (PermissionDenied, in French) an act the role of ``operator`` — the name the
    record will carry — does not allow. See the module docstring for a ledger without
    operators."""
    found = find_operator(session, operator)
    if found is not None:
        found.require(permission)
    elif has_operators(session):
        raise PermissionDenied(
            f"« {operator} » n'est pas un opérateur de ce journal : seul un opérateur dont "
            f"le rôle le permet peut {permission.act}."
        )
