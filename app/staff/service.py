"""Operators: PINs (salted scrypt), roles, permissions, login with lockout."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput
from app.ledger import canonical
from app.ledger.events import EventCode, log_event
from app.ledger.operators import (
    Operator,
    OperatorInfo,
    Permission,
    PermissionDenied,
    Role,
    require,
)
from app.ledger.store import ledger_of
from app.values.text import validate_label

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=1)


class LoginFailed(ComptoirError):
    pass


def _hash_pin(pin: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(pin.encode("utf-8"))


def _check_pin_format(pin: str) -> str:
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or not 4 <= len(pin) <= 8:
        raise InvalidInput("Le code PIN doit comporter de 4 à 8 chiffres.")
    return pin


def add_operator(
    session: Session, name: str, role: Role | str, pin: str, *, operator: str
) -> OperatorInfo:
    """Add ``name``, by ``operator`` (a manager once the ledger has operators; anyone for
    the first one, who is made at the first start)."""
    require(session, operator, Permission.EDIT_SETTINGS)
    name = validate_label(name)
    if len(name) > 64:
        raise InvalidInput("Nom d'opérateur trop long (64 caractères au plus).")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"Rôle inconnu : {role!r}.") from None
    if session.scalar(select(Operator.id).where(Operator.name == name)):
        raise InvalidInput(f"Un opérateur s'appelle déjà « {name} ».")
    salt = os.urandom(16)
    operator = Operator(
        name=name,
        role=role.value,
        pin_salt=salt,
        pin_hash=_hash_pin(_check_pin_format(pin), salt),
        failed_attempts=0,
        active=True,
    )
    session.add(operator)
    session.flush()
    return OperatorInfo(operator.id, operator.name, role)


def list_operators(session: Session) -> list[OperatorInfo]:
    return [
        OperatorInfo(o.id, o.name, Role(o.role))
        for o in session.scalars(
            select(Operator).where(Operator.active.is_(True)).order_by(Operator.name)
        )
    ]


@dataclass(frozen=True)
class LoginOutcome:
    operator: OperatorInfo | None
    error: str | None = None

    def raise_for_error(self) -> OperatorInfo:
        if self.operator is None:
            raise LoginFailed(self.error or "Connexion refusée.")
        return self.operator


def attempt_login(session: Session, name: str, pin: str) -> LoginOutcome:
    """Check a PIN. Failures count towards a short lockout and are journaled, so the
    caller commits the transaction whatever the outcome, then reports the error."""
    operator = session.scalar(
        select(Operator).where(Operator.name == name, Operator.active.is_(True))
    )
    if operator is None:
        return LoginOutcome(None, "Opérateur inconnu.")
    ledger = ledger_of(session)
    now = canonical.format_ts(ledger.clock())
    if operator.locked_until and now < operator.locked_until:
        return LoginOutcome(None, "Trop d'essais : réessayez dans une minute.")
    if not isinstance(pin, str) or not hmac.compare_digest(
        _hash_pin(pin, operator.pin_salt), operator.pin_hash
    ):
        operator.failed_attempts += 1
        if operator.failed_attempts >= MAX_FAILURES:
            operator.failed_attempts = 0
            operator.locked_until = canonical.format_ts(ledger.clock() + LOCKOUT)
        log_event(session, EventCode.LOGIN_FAILED, operator=operator.name)
        return LoginOutcome(None, "Code PIN incorrect.")
    operator.failed_attempts = 0
    operator.locked_until = None
    log_event(session, EventCode.LOGIN, operator=operator.name, role=operator.role)
    return LoginOutcome(OperatorInfo(operator.id, operator.name, Role(operator.role)))


def check_manager_pin(session: Session, pin: str) -> OperatorInfo:
    """A manager's authorisation (refunds, cancellations) by PIN alone."""
    for operator in session.scalars(
        select(Operator).where(Operator.role == Role.MANAGER.value, Operator.active.is_(True))
    ):
        if isinstance(pin, str) and hmac.compare_digest(
            _hash_pin(pin, operator.pin_salt), operator.pin_hash
        ):
            return OperatorInfo(operator.id, operator.name, Role.MANAGER)
    raise PermissionDenied("Code PIN de gérant incorrect.")
