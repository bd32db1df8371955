"""The closures of an archive checked against the tickets and inner closures it holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.ledger.archive.verdict import sentence
from app.ledger.records import RECORD_LABELS, RecordType
from app.ledger.verify.closures import DAY, PART_OF
from app.ledger.verify.totals import (
    RunningTotals,
    compare_totals,
    perpetual_problem,
    totals_of_body,
)


@dataclass
class ArchiveClosures:
    """Closures checked against what the archive holds. A closure whose range starts
    before the archive can only be partly checked (its link and its parts found here)."""

    first_seq: int
    fail: Callable[[int, str], None]
    running: RunningTotals = field(default_factory=RunningTotals)
    day_start: int = 0
    seen: dict[int, tuple[str, str, str, dict[str, Any]]] = field(default_factory=dict)
    checked: int = 0
    partial: int = 0

    def __post_init__(self) -> None:
        self.day_start = self.first_seq

    def ticket(self, body: dict[str, Any]) -> bool:
        """Count a ticket in the running day; False (and nothing counted) when its content
        has values of the wrong kind."""
        single = RunningTotals()
        try:
            single.add_ticket(body)
        except (KeyError, TypeError, AttributeError):
            return False
        self.running.merge(single)
        return True

    def closure(self, seq: int, rtype: str, body: dict[str, Any], prev: str, hash_: str) -> None:
        label = RECORD_LABELS[RecordType(rtype)].lower()
        name = f"la {label} du {body.get('period', '?')} (enregistrement n°{seq})"

        def fail(problem: str) -> None:
            self.fail(seq, sentence(f"{name} : {problem}"))

        try:
            complete = self._check(seq, rtype, body, prev, fail)
            self._check_link(body, fail)
            if body["grand_total"] != body["total"]:
                fail("le grand total de la période ne correspond pas au total.")
        except (KeyError, TypeError, AttributeError):
            fail("le contenu de la clôture est incomplet.")
            complete = False
        if complete:
            self.checked += 1
        else:
            self.partial += 1
        self.seen[seq] = (rtype, str(body.get("period")), hash_, body)

    def _check(
        self, seq: int, rtype: str, body: dict[str, Any], prev: str, fail: Callable[[str], None]
    ) -> bool:
        """Range and totals; True when the whole closure could be recomputed."""
        if body["last_seq"] != seq - 1:
            fail("la plage d'enregistrements couverte est incorrecte.")
        if seq > self.first_seq and body["last_hash"] != prev:
            fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
        covered = body["first_seq"] >= self.first_seq
        if rtype == DAY:
            running, start = self.running, self.day_start
            self.running, self.day_start = RunningTotals(), seq + 1
            if not covered:
                return False
            if body["first_seq"] != start:
                fail("la plage d'enregistrements couverte est incorrecte.")
                return False
            problem = compare_totals(body, running)
            if problem:
                fail(problem)
            return True
        part_type = PART_OF[rtype]
        listed = [(p["seq"], p["period"], p["hash"]) for p in body["parts"]]
        if not all(s in self.seen for s, _p, _h in listed):
            return False
        if covered:
            found = [
                s
                for s, (t, period, _h, _b) in self.seen.items()
                if t == part_type
                and body["first_seq"] <= s < seq
                and period.startswith(body["period"])
            ]
            if [s for s, _p, _h in listed] != found:
                fail("la liste des clôtures regroupées est incorrecte.")
        computed = RunningTotals()
        for s, period, hash_ in listed:
            t, seen_period, seen_hash, part = self.seen[s]
            if (t, seen_period, seen_hash) != (part_type, period, hash_):
                fail("la liste des clôtures regroupées est incorrecte.")
            computed.merge(totals_of_body(part))
        problem = compare_totals(body, computed)
        if problem:
            fail(problem)
        return covered

    def _check_link(self, body: dict[str, Any], fail: Callable[[str], None]) -> None:
        """The perpetual grand total goes on from the previous closure of the same kind."""
        previous = body["previous"]
        if previous is None or previous["seq"] not in self.seen:
            return
        _t, _p, hash_, before = self.seen[previous["seq"]]
        if previous["hash"] != hash_:
            fail("le lien vers la clôture précédente est incorrect.")
        perpetual_problem(body, before, fail)
