"""Exports written from a training ledger say so before anything else."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from app.ledger.export.browse import COLUMNS, RecordFilter
from app.ledger.export.views import export_view
from app.ledger.store import Ledger
from app.ledger.training import TRAINING_NOTICE
from tests.helpers import ring


def _ledger(path: Path, kind: str, clock) -> Ledger:
    ledger = Ledger.open(path, kind=kind, clock=clock, operator="Camille")
    ring(ledger)
    return ledger


def test_training_csv_and_xlsx_carry_the_mention(tmp_path: Path, clock) -> None:
    with _ledger(tmp_path / "formation.sqlite", "training", clock) as ledger:
        for fmt in ("csv", "xlsx"):
            export_view(
                ledger.path, RecordFilter(), fmt, tmp_path / f"vue.{fmt}",
                ledger=ledger, operator="Camille",
            )  # fmt: skip
    with (tmp_path / "vue.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    assert lines[0] == [TRAINING_NOTICE]
    assert tuple(lines[1]) == COLUMNS
    sheet = load_workbook(tmp_path / "vue.xlsx").active
    assert sheet.title == "FORMATION"
    assert sheet["A1"].value == TRAINING_NOTICE
    assert sheet["A2"].value == COLUMNS[0]


def test_real_exports_start_with_the_header(tmp_path: Path, clock) -> None:
    with _ledger(tmp_path / "vrai.sqlite", "real", clock) as ledger:
        export_view(ledger.path, RecordFilter(), "csv", tmp_path / "vue.csv",
                    ledger=ledger, operator="Camille")  # fmt: skip
    first = (tmp_path / "vue.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert first.split(";")[0] == COLUMNS[0]
