"""How a verification cuts a ledger into chunks for its worker processes."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from app.ledger.verify.parallel import chunks


@pytest.mark.parametrize(
    ("lo", "hi", "size", "workers"),
    [(1, 12, 5, 2), (1, 1_000_000, 20_000, 2), (7, 333_333, 20_000, 4), (1, 1, 20_000, 2)],
)
def test_chunks_cover_the_span_once_in_order(lo: int, hi: int, size: int, workers: int) -> None:
    ranges = list(chunks(lo, hi, size, workers))
    assert ranges[0][0] == lo and ranges[-1][1] == hi
    assert all(a_hi + 1 == b_lo for (_a, a_hi), (b_lo, _b) in itertools.pairwise(ranges))
    assert all(first <= last and last - first < size for first, last in ranges)


def test_a_small_span_keeps_whole_chunks() -> None:
    assert list(chunks(1, 12, 5, 2)) == [(1, 5), (6, 10), (11, 12)]


def test_a_long_span_ends_in_quarter_chunks_so_the_workers_finish_together() -> None:
    ranges = list(chunks(1, 1_000_000, 20_000, 2))
    sizes = [last - first + 1 for first, last in ranges]
    assert sizes[:48] == [20_000] * 48
    assert sizes[48:] == [5_000] * 8  # the last 2 workers x 20,000 records


def test_a_worker_checks_a_sqlite_ledger_without_loading_the_orm() -> None:
    """Each worker process starts afresh: the ORM and the PostgreSQL driver would add a
    quarter of a second to every verification of a large ledger, for nothing."""
    probe = (
        "import sys, app.ledger.verify.scan; "
        "print(sorted(m for m in ('sqlalchemy', 'psycopg') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
