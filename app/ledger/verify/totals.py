"""Ticket figures and the totals a closure must agree with.

A ticket is read as its *figures*: total, sum of its lines, VAT rows ``(rate, base, vat,
total)`` and payment rows ``(method, amount)``. The same figures are compared with the
database's query copies, checked for consistency, and summed into the running totals a
day closure is judged against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.ledger.verify.report import count

VatRow = tuple[int, int, int, int]
PayRow = tuple[str, int]
Figures = tuple[int, int, list[VatRow], list[PayRow]]  # total, lines, VAT, payments


def ticket_figures(body: dict[str, Any]) -> Figures:
    """KeyError or TypeError when the body lacks what a ticket holds."""
    total = body["total"]
    lines = sum(line["total"] for line in body["lines"])
    vat = [(v["rate"], v["base"], v["vat"], v["total"]) for v in body["vat"]]
    payments = [(p["method"], p["amount"]) for p in body["payments"]]
    return total, lines, vat, payments


def figures_problem(figures: Figures, *, typed: bool = False) -> str | None:
    """``typed``: the figures were read with their types enforced (rates are integers,
    methods text), which need not be checked again."""
    total, lines, vat, payments = figures
    if lines != total:
        return "la somme des lignes ne correspond pas au total."
    if sum([v[3] for v in vat]) != total:
        return "la ventilation de TVA ne correspond pas au total."
    if any([v[1] + v[2] != v[3] for v in vat]):
        return "une ligne de TVA est incohérente (HT + TVA ≠ TTC)."
    if sum([p[1] for p in payments]) != total:
        return "les règlements ne correspondent pas au total."
    # Totals are summed per rate and per method: keys of the wrong type would make
    # those sums fail (or mislead) instead of being reported.
    if typed:
        return None
    if {type(v[0]) for v in vat} - {int} or {type(p[0]) for p in payments} - {str}:
        return "le contenu du ticket est mal formé (taux ou moyen de paiement)."
    return None


def ticket_problem(body: dict[str, Any]) -> str | None:
    try:
        return figures_problem(ticket_figures(body))
    except (KeyError, TypeError):
        return "le contenu du ticket est incomplet."


@dataclass
class RunningTotals:
    """Ticket turnover summed as records are read, to be compared with a closure."""

    tickets: int = 0
    refunds: int = 0
    abs_total: int = 0
    vat: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    payments: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, figures: Figures) -> None:
        total, _lines, vat_rows, pay_rows = figures
        self.tickets += 1
        self.refunds += total < 0
        self.abs_total += abs(total)
        vat = self.vat
        for rate, base, tax, gross in vat_rows:
            acc = vat[rate]
            acc[0] += base
            acc[1] += tax
            acc[2] += gross
        payments = self.payments
        for method, amount in pay_rows:
            payments[method] += amount

    def add_ticket(self, body: dict[str, Any]) -> None:
        self.add(ticket_figures(body))

    def merge(self, other: RunningTotals) -> None:
        self.tickets += other.tickets
        self.refunds += other.refunds
        self.abs_total += other.abs_total
        for rate, (b, v, t) in other.vat.items():
            acc = self.vat[rate]
            acc[0] += b
            acc[1] += v
            acc[2] += t
        for method, amount in other.payments.items():
            self.payments[method] += amount

    def as_plain(self) -> list[Any]:
        """Canonical values (lists, str, int): picklable cheaply and journaled as is."""
        return [
            self.tickets,
            self.refunds,
            self.abs_total,
            [[r, *v] for r, v in self.vat.items()],
            [[m, a] for m, a in self.payments.items()],
        ]

    @classmethod
    def from_plain(cls, plain: Any) -> RunningTotals:
        totals = cls()
        totals.tickets, totals.refunds, totals.abs_total = plain[0], plain[1], plain[2]
        for rate, base, tax, gross in plain[3]:
            totals.vat[rate] = [base, tax, gross]
        for method, amount in plain[4]:
            totals.payments[method] = amount
        return totals


def totals_of_body(body: dict[str, Any]) -> RunningTotals:
    totals = RunningTotals()
    totals.tickets, totals.refunds, totals.abs_total = (
        body["tickets"],
        body["refunds"],
        body["abs_total"],
    )
    for v in body["vat"]:
        totals.vat[v["rate"]] = [v["base"], v["vat"], v["total"]]
    for p in body["payments"]:
        totals.payments[p["method"]] += p["amount"]
    return totals


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{count(euros)},{rest:02d} €"


def compare_totals(body: dict[str, Any], computed: RunningTotals) -> str | None:
    if body["tickets"] != computed.tickets:
        return (
            f"{body['tickets']} tickets enregistrés dans la clôture, "
            f"{computed.tickets} retrouvés dans le journal."
        )
    recorded = {v["rate"]: [v["base"], v["vat"], v["total"]] for v in body["vat"]}
    # A rate sold and refunded within the period nets to zero: the closure keeps its row,
    # the recomputation may not; both mean the same, so zero rows are left out of both.
    if {r: v for r, v in recorded.items() if any(v)} != {
        r: v for r, v in computed.vat.items() if any(v)
    }:
        total = sum(v[2] for v in computed.vat.values())
        return (
            f"total TTC enregistré {_euros(body['total'])}, recalculé {_euros(total)} "
            "(ventilation par taux de TVA différente)."
        )
    if (
        sum(v[2] for v in recorded.values()) != body["total"]
        or body["total_vat"] != sum(v[1] for v in recorded.values())
        or body["total_excl"] != sum(v[0] for v in recorded.values())
    ):
        return "les totaux HT, TVA et TTC ne correspondent pas à la ventilation par taux."
    paid = {p["method"]: p["amount"] for p in body["payments"]}
    if paid != {m: a for m, a in computed.payments.items() if a or m in paid}:
        return "les totaux par moyen de paiement ne correspondent pas aux tickets."
    if body["refunds"] != computed.refunds or body["abs_total"] != computed.abs_total:
        return "les compteurs d'annulations ne correspondent pas aux tickets."
    return None


_NOTHING_BEFORE = {"perpetual_total": 0, "perpetual_abs_total": 0}


def grand_total_problems(
    body: dict[str, Any], before: dict[str, Any] | None, fail: Callable[[str], None]
) -> None:
    """The period's grand total is its total; the perpetual ones go on from ``before`` (the
    previous closure of the same kind's body, None for the first)."""
    before = before or _NOTHING_BEFORE
    if body["grand_total"] != body["total"]:
        fail("le grand total de la période ne correspond pas au total.")
    perpetual_problem(body, before, fail)


def perpetual_problem(
    body: dict[str, Any], before: dict[str, Any], fail: Callable[[str], None]
) -> None:
    if body["perpetual_total"] != before["perpetual_total"] + body["total"] or (
        body["perpetual_abs_total"] != before["perpetual_abs_total"] + body["abs_total"]
    ):
        fail("le grand total perpétuel ne prolonge pas celui de la clôture précédente.")
