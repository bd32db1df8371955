"""Exports of a filtered view of the journal: CSV and XLSX, each one journaled.

Rows are streamed from a ``RecordIndex`` a thousand at a time, so an export of a million
records holds one chunk in memory, never the journal. The file is written beside its
destination under a temporary name and renamed only once the export is journaled: an
export that could not be journaled leaves no file behind.

The FEC (fichier des écritures comptables) is in ``app.ledger.export.fec``.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from app.errors import ComptoirError
from app.ledger import keys
from app.ledger.db import require_file
from app.ledger.events import EventCode, log_event
from app.ledger.export.browse import (
    COLUMNS,
    FILE_ONLY,
    LedgerBrowser,
    RecordFilter,
    RecordIndex,
    RecordRow,
)
from app.ledger.store import Ledger
from app.ledger.training import TRAINING, TRAINING_NOTICE
from app.values.money import group_thousands, plain_cents

Format = Literal["csv", "xlsx"]
Progress = Callable[[int, int], None]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
XLSX_MAX_ROWS = 1_048_576 - 1  # a worksheet's rows, less the header
CHUNK = 1000
EURO_FORMAT = '#,##0.00\\ "€"'
DATE_FORMAT = "dd/mm/yyyy hh:mm:ss"
WIDTHS = (11, 26, 16, 19, 11, 16, 14, 30, 66)


def export_view(
    db_path: Path | str,
    flt: RecordFilter,
    fmt: Format,
    out: Path | str,
    *,
    ledger: Ledger | None = None,
    operator: str,
    source: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Write the records of ``db_path`` that ``flt`` selects to ``out``; returns ``out``.

    ``db_path`` may be the live ledger or an archive loaded as a ledger file. The export
    is journaled as an EXPORT event in ``ledger`` (format, filter, number of rows, file
    name, ``source``) when a ledger open for writing is given: the shop's own computer.
    A viewer elsewhere (an accountant's computer, a ledger or an archive read without
    its signing key) has no ledger to journal into; it passes ``ledger=None`` and the
    export writes nothing but the file.
    """
    if fmt not in FORMATS:
        raise ComptoirError(f"Format d'export inconnu : {fmt!r} (csv ou xlsx).")
    out = Path(out)
    if ledger is not None and ledger.readonly:
        ledger = None
    partial = out.with_name(f".{out.name}.partiel")
    with LedgerBrowser(db_path) as browser:
        index = browser.index(flt, cancelled)
        if fmt == "xlsx" and len(index) > XLSX_MAX_ROWS:
            rows, limit = group_thousands(len(index)), group_thousands(XLSX_MAX_ROWS)
            raise ComptoirError(
                f"Trop de lignes pour un fichier XLSX ({rows} ; {limit} au plus) : affinez les "
                "filtres ou exportez en CSV."
            )
        writer = _write_csv if fmt == "csv" else _write_xlsx
        identity = _identity(Path(db_path))
        mention = TRAINING_NOTICE if identity and identity[1] == TRAINING else None
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            rows = writer(partial, _counted(index, progress, cancelled), mention)
            if ledger is not None:
                _journal(ledger, operator, fmt, flt, rows, out.name, source)
            partial.replace(out)
        except OSError as exc:
            raise ComptoirError(
                f"Le fichier {out} n'a pas pu être écrit : {exc.strerror or exc}."
            ) from exc
        finally:
            with suppress(OSError):
                partial.unlink(missing_ok=True)
    return out


def _journal(
    ledger: Ledger,
    operator: str,
    fmt: Format,
    flt: RecordFilter,
    rows: int,
    file_name: str,
    source: str | None,
) -> None:
    with ledger.transaction() as session:
        log_event(
            session,
            EventCode.EXPORT,
            operator=operator,
            format=fmt.upper(),
            filter=flt.describe(),
            rows=rows,
            file=file_name,
            source=source or "journal",
        )


class ExportCancelled(ComptoirError):
    def __init__(self) -> None:
        super().__init__("Export annulé : aucun fichier n'a été écrit.")


def _counted(
    index: RecordIndex, progress: Progress | None, cancelled: Callable[[], bool] | None
) -> Iterator[RecordRow]:
    total = len(index)
    for done, row in enumerate(index.iter_rows(CHUNK), start=1):
        if done % CHUNK == 0:
            if cancelled is not None and cancelled():
                raise ExportCancelled
            if progress is not None:
                progress(done, total)
        yield row
    if progress is not None:
        progress(total, total)


def _csv_cells(row: RecordRow) -> list[str]:
    return [
        str(row.seq),
        row.type_label,
        row.number,
        row.when,
        row.till,
        row.operator,
        "" if row.total_cents is None else plain_cents(row.total_cents),
        row.customer,
        row.hash,
    ]


def _write_csv(path: Path, rows: Iterator[RecordRow], mention: str | None) -> int:
    """UTF-8 with a BOM and semicolons: what a French spreadsheet opens without asking.
    A training export starts with the training mention, above the header."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        if mention:
            writer.writerow([mention])
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(_csv_cells(row))
            count += 1
    return count


def _local(row: RecordRow) -> datetime | None:
    try:
        return datetime.strptime(row.when, "%d/%m/%Y %H:%M:%S")
    except ValueError:  # a record missing from the file
        return None


def _write_xlsx(path: Path, rows: Iterator[RecordRow], mention: str | None) -> int:
    """openpyxl's write-only mode streams rows to disk; amounts are numbers in euros.
    A training export names its sheet FORMATION and carries the mention above the header
    and in the printed page's header."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("FORMATION" if mention else "Journal")
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A3" if mention else "A2"
    bold = Font(bold=True)
    if mention:
        sheet.oddHeader.center.text = mention
        warning = WriteOnlyCell(sheet, value=mention)
        warning.font = Font(bold=True, size=14, color="C0392B")
        sheet.append([warning])
    header = []
    for title in COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        when = WriteOnlyCell(sheet, value=_local(row))
        when.number_format = DATE_FORMAT
        amount = WriteOnlyCell(
            sheet, value=None if row.total_cents is None else Decimal(row.total_cents) / 100
        )
        amount.number_format = EURO_FORMAT
        sheet.append(
            [
                row.seq,
                row.type_label,
                row.number,
                when,
                row.till,
                row.operator,
                amount,
                row.customer or None,
                row.hash,
            ]
        )
        count += 1
    book.save(path)
    return count


# -- the ledger to journal into, from the command line ---------------------------------------
def _identity(path: Path) -> tuple[str, str] | None:
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT ledger_id, kind FROM ledger_meta").fetchone()
    except sqlite3.Error:
        return None
    return (row[0], row[1]) if row else None


@contextmanager
def journaling_ledger(path: Path, *, operator: str) -> Iterator[Ledger | None]:
    """The ledger at ``path`` open for writing when this computer holds its signing key,
    else None: another computer must not sign in the shop's name (opening the file for
    writing there would introduce a key of its own into the chain)."""
    identity = _identity(require_file(path, FILE_ONLY))
    if identity is None or keys.load_key(identity[0]) is None:
        yield None
        return
    with Ledger.open(path, kind=identity[1], create=False, operator=operator) as ledger:
        yield ledger
