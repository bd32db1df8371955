"""The periods of e-reporting under the shop's VAT regime (``periods_between``): réel
normal, transactions per ten days and payments per month; réel simplifié, monthly;
franchise en base, every two months."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from app.einvoice.pdp import flux10
from app.errors import InvalidInput


@dataclass(frozen=True)
class Period:
    flux: str  # flux10.TRANSACTIONS or flux10.PAYMENTS
    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.flux}:{self.start.isoformat()}:{self.end.isoformat()}"

    def label(self) -> str:
        return f"{flux10.FLUXES[self.flux]} du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(regime: str, flux: str, day: date) -> Period:
    """The period of ``flux`` that contains ``day`` under the shop's VAT regime."""
    if regime == "franchise":
        first = day.replace(month=day.month - (day.month - 1) % 2, day=1)
        return Period(flux, first, _month_end(first.replace(month=first.month + 1)))
    if regime == "reel_normal" and flux == flux10.TRANSACTIONS:
        start = day.replace(day=min(21, 1 + (day.day - 1) // 10 * 10))
        end = _month_end(day) if start.day == 21 else start + timedelta(days=9)
        return Period(flux, start, end)
    return Period(flux, day.replace(day=1), _month_end(day))


def periods_between(regime: str, first: date, last: date) -> list[Period]:
    """Every period of both fluxes that overlaps [first, last], in date order."""
    found: list[Period] = []
    for flux in flux10.FLUXES:
        day = first
        while day <= last:
            period = period_of(regime, flux, day)
            found.append(period)
            day = period.end + timedelta(days=1)
    return sorted(found, key=lambda p: (p.start, p.flux))


def parse_period(regime: str, text: str) -> list[Period]:
    """``AAAA-MM`` (every period starting in that month) or ``AAAA-MM-JJ`` (the periods
    containing that day)."""
    try:
        if len(text) == 7:
            start = date.fromisoformat(f"{text}-01")
            return [p for p in periods_between(regime, start, _month_end(start))
                    if p.start.month == start.month]  # fmt: skip
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"Période invalide : « {text} » (attendu AAAA-MM ou AAAA-MM-JJ)."
        ) from exc
    return [period_of(regime, flux, day) for flux in flux10.FLUXES]


__all__ = ["Period", "parse_period", "period_of", "periods_between"]
