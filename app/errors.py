"""Operational errors. Every failure a user can cause is a ComptoirError whose
message is a French sentence a shopkeeper understands; details go to the log."""

from __future__ import annotations


class ComptoirError(Exception):
    """Base of every error shown to a user."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidInput(ComptoirError):
    """Data typed or sent by a user (or a caller) is not acceptable."""


class LedgerError(ComptoirError):
    """The fiscal ledger refuses an operation."""


class ClosureRequired(LedgerError):
    """An earlier period with sales must be closed first."""

    def __init__(self, message: str, *, period: str, period_kind: str) -> None:
        super().__init__(message)
        self.period = period
        self.period_kind = period_kind


class PeriodClosed(LedgerError):
    """The period a record would fall into is already closed."""


class ClockError(LedgerError):
    """The system clock is earlier than the last record of the ledger."""


class LedgerMismatch(LedgerError):
    """A database was opened for the wrong purpose (training vs real, wrong file)."""


class KeyUnavailable(LedgerError):
    """The ledger's signing key is missing from this computer, or the ledger names another
    key than the one kept here: nothing may be written until the right key is back."""


class ClockJump(LedgerError):
    """The clock is far ahead of the last record: a manager must confirm the date before
    anything is written (``observed`` and ``last`` are the two canonical timestamps)."""

    def __init__(self, message: str, *, observed: str, last: str) -> None:
        super().__init__(message, detail=f"observed {observed}, last record {last}")
        self.observed = observed
        self.last = last
