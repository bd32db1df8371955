"""Closures judged in chain order: the range each covers (a day closed several times has
one range per Z, each following the last: a gap or an overlap shows), the hash of its
last covered record, its totals (a day's from its tickets, a month's or a year's from the
closures it groups) and the perpetual grand totals carried from the previous closure of
its kind.

A ledger and a till's chain on a central are judged by the same ``ClosureChain``; an
archive, whose first closures began before it, by ``archive.check`` with the same totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from app.ledger.records import RecordType
from app.ledger.verify.report import closure_name
from app.ledger.verify.totals import (
    RunningTotals,
    compare_totals,
    grand_total_problems,
    totals_of_body,
)

DAY = RecordType.DAY_CLOSURE.value
MONTH = RecordType.MONTH_CLOSURE.value
YEAR = RecordType.YEAR_CLOSURE.value
PART_OF = {MONTH: DAY, YEAR: MONTH}
Fail = Callable[[int | None, str, str], None]


class ClosureChain:
    """``since_day`` holds the tickets since the last day closure; the caller adds to it."""

    def __init__(self, fail: Fail, excused: Callable[[dict[str, Any]], bool] | None = None):
        self.fail = fail
        self.excused = excused  # a day whose tickets are no longer here (purged)
        self.since_day = RunningTotals()
        self.count = 0
        self.by_archive = 0
        self.last: dict[str, tuple[int, dict[str, Any]]] = {}  # type -> (seq, body)
        self.parts: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)

    def closure(self, seq: int, rtype: str, body: dict[str, Any], prev_hash: str) -> None:
        self.count += 1
        name = closure_name(seq, rtype, body)

        def fail(message: str) -> None:
            self.fail(seq, "closure", f"{name} : {message}")

        try:
            previous = self.last.get(rtype)
            expected_first = previous[0] + 1 if previous else 1
            if body["first_seq"] != expected_first or body["last_seq"] != seq - 1:
                fail("la plage d'enregistrements couverte est incorrecte.")
            if body["last_hash"] != prev_hash:
                fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
            # A day may be closed several times, but never after a later day.
            if rtype == DAY and previous and body["period"] < previous[1]["period"]:
                fail("elle clôture une journée antérieure à celle de la clôture précédente.")
            computed = self._computed(rtype, body, fail)
            problem = compare_totals(body, computed) if computed is not None else None
            if problem:
                fail(problem)
            grand_total_problems(body, previous[1] if previous else None, fail)
        except (KeyError, TypeError):
            fail("le contenu de la clôture est incomplet.")
        self.last[rtype] = (seq, body)
        self.parts[rtype].append((seq, body))

    def _computed(
        self, rtype: str, body: dict[str, Any], fail: Callable[[str], None]
    ) -> RunningTotals | None:
        if rtype == DAY:
            computed, self.since_day = self.since_day, RunningTotals()
            if self.excused is not None and self.excused(body):
                # Its tickets were purged: the archive recomputed it; here its hash,
                # signature, range and perpetual totals are still checked.
                self.by_archive += 1
                return None
            return computed
        parts = self.parts.pop(PART_OF[rtype], [])
        listed = [(p["seq"], p["period"]) for p in body["parts"]]
        if listed != [(s, b["period"]) for s, b in parts]:
            fail("la liste des clôtures regroupées est incorrecte.")
        computed = RunningTotals()
        for _seq, part in parts:
            computed.merge(totals_of_body(part))
        return computed
