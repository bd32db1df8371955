"""The Archives screen, clicked offscreen over a copy of the demo shop's ledger."""

from __future__ import annotations

import csv
import importlib.util
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QPushButton

from app.ledger import canonical
from app.ledger.export.browse import COLUMNS, RecordFilter
from app.ledger.operators import Role
from app.ledger.store import Ledger
from app.staff.service import add_operator
from app.ui.archive_viewer import ArchiveViewer
from app.ui.context import AppContext
from app.ui.main_window import PAGES
from tests.ledger.demo_ledger import demo_copy

HAS_ARCHIVES = importlib.util.find_spec("app.ledger.archive.write") is not None


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Ledger]:
    path = demo_copy(tmp_path)
    with Ledger.open(path, kind="demo", create=False, operator="Camille") as ledger:
        yield ledger


def make_viewer(qtbot, ledger: Ledger, role: Role = Role.MANAGER) -> ArchiveViewer:
    with ledger.transaction() as session:
        operator = add_operator(session, f"Op {role.value}", role, "1234", operator="Camille")
    viewer = ArchiveViewer(AppContext(ledger, operator))
    qtbot.addWidget(viewer)
    viewer.resize(1110, 770)
    viewer.show()
    qtbot.waitExposed(viewer)
    return viewer


@pytest.fixture
def viewer(qtbot, demo: Ledger) -> ArchiveViewer:
    return make_viewer(qtbot, demo)


def count(path: Path, sql: str, *params: object) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchone()[0]


def last_event(path: Path) -> dict:
    with closing(sqlite3.connect(path)) as conn:
        data = conn.execute(
            "SELECT canonical FROM journal WHERE record_type = 'EVENT' ORDER BY seq DESC LIMIT 1"
        ).fetchone()[0]
    return canonical.decode(data)["body"]


def label(viewer: ArchiveViewer, name: str) -> str:
    return viewer.findChild(QLabel, name).text()


def click(qtbot, viewer: ArchiveViewer, name: str) -> None:
    button = viewer.findChild(QPushButton, name)
    assert button.isVisible() and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_quick_filter(qtbot, viewer: ArchiveViewer, text: str) -> None:
    quick = viewer.findChild(QListWidget, "quickTypes")
    item = quick.findItems(text, Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(
        quick.viewport(), Qt.MouseButton.LeftButton, pos=quick.visualItemRect(item).center()
    )


def click_row(qtbot, viewer: ArchiveViewer, row: int) -> None:
    table = viewer.table
    rect = table.visualRect(viewer.model.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def settle(qtbot, viewer: ArchiveViewer) -> None:
    """Let the filter bar's pause elapse and any background search finish."""
    viewer.filters.flush()
    qtbot.waitUntil(lambda: not viewer.searching, timeout=10_000)


def bypass_dialog(viewer: ArchiveViewer, path: Path) -> None:
    """The file dialog answers ``path`` at once (the buttons still do the rest)."""

    def chosen(title: str, name: str, pattern: str, then: Callable[[Path], None]) -> None:
        then(path)

    viewer.dialogs.ask_save_path = chosen  # type: ignore[method-assign]


def wait_task(qtbot, viewer: ArchiveViewer) -> None:
    qtbot.waitUntil(lambda: not viewer.ops.busy, timeout=60_000)


def test_opens_the_live_ledger_read_only(
    qtbot, viewer: ArchiveViewer, demo: Ledger, qtmodeltester
) -> None:
    total = count(demo.path, "SELECT COUNT(*) FROM journal")
    assert viewer.model.rowCount() == total
    assert label(viewer, "countLabel").startswith(f"{total} enregistrements")
    assert "Journal en cours" in label(viewer, "sourceLabel")
    header = [viewer.model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
              for c in range(len(COLUMNS))]  # fmt: skip
    assert header[0] == "N° d'ordre" and header[-1] == "Empreinte"
    tree = viewer.periods
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == [
        "Tout le journal",
        "2026",
    ]
    assert tree.topLevelItem(1).child(0).text(0) == "Mars"
    qtmodeltester.check(viewer.model)


def test_filter_by_type_and_text_then_read_the_detail(
    qtbot, viewer: ArchiveViewer, demo: Ledger
) -> None:
    click_quick_filter(qtbot, viewer, "Tickets")
    settle(qtbot, viewer)
    tickets = count(demo.path, "SELECT COUNT(*) FROM journal WHERE record_type = 'TICKET'")
    assert viewer.model.rowCount() == tickets
    assert viewer.filters.type.currentText() == "Tickets"

    qtbot.keyClicks(viewer.filters.text, "T000003")
    settle(qtbot, viewer)
    assert viewer.model.rowCount() == 1
    assert "contenant « T000003 »" in label(viewer, "countLabel")

    click_row(qtbot, viewer, 0)
    printed = viewer.printed.toPlainText()
    assert "Ticket T000003" in printed
    assert "TOTAL TTC" in printed and "Épicerie du Comptoir" in printed  # as on the receipt
    assert label(viewer, "signatureStatus") == "Signature valide"
    assert label(viewer, "hashCheck") == "conforme"
    with closing(sqlite3.connect(demo.path)) as conn:
        stored = conn.execute(
            "SELECT hash, prev_hash FROM journal WHERE record_type = 'TICKET' AND number = 3"
        ).fetchone()
    assert label(viewer, "detailHash").replace("\n", "") == stored[0]
    assert label(viewer, "detailPrevHash").replace("\n", "") == stored[1]

    click(qtbot, viewer, "clearFilters")
    settle(qtbot, viewer)
    assert viewer.model.rowCount() == count(demo.path, "SELECT COUNT(*) FROM journal")
    assert viewer.current_seq() is not None  # the selected ticket stays selected


def test_closures_show_as_their_z_report_and_invoices_with_the_customer(
    qtbot, viewer: ArchiveViewer
) -> None:
    click_quick_filter(qtbot, viewer, "Clôtures Z")
    settle(qtbot, viewer)
    assert viewer.model.rowCount() == 4
    click_row(qtbot, viewer, 0)
    assert "Grand total perpétuel" in viewer.printed.toPlainText()

    click_quick_filter(qtbot, viewer, "Factures et avoirs")
    qtbot.keyClicks(viewer.filters.customer, "martin")
    settle(qtbot, viewer)
    assert viewer.model.rowCount() > 0
    click_row(qtbot, viewer, 0)
    assert "Client" in viewer.printed.toPlainText()
    assert "Martin" in viewer.printed.toPlainText()


def test_period_tree_and_amounts_filter(qtbot, viewer: ArchiveViewer, demo: Ledger) -> None:
    month = viewer.periods.topLevelItem(1).child(0)
    tree = viewer.periods
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(month).center()
    )
    settle(qtbot, viewer)
    assert viewer.filters.period.isChecked()
    assert viewer.index.filter.date_from.isoformat() == "2026-03-01"
    assert viewer.index.filter.date_to.isoformat() == "2026-03-31"

    qtbot.keyClicks(viewer.filters.min_amount, "abc")
    settle(qtbot, viewer)
    assert viewer.findChild(QLabel, "filterError").isVisible()
    viewer.filters.min_amount.clear()
    qtbot.keyClicks(viewer.filters.min_amount, "300")
    settle(qtbot, viewer)
    expected = count(
        demo.path,
        "SELECT COUNT(*) FROM journal WHERE COALESCE(total_cents, "
        "json_extract(CAST(canonical AS TEXT), '$.body.total')) >= 30000",
    )
    assert viewer.model.rowCount() == expected > 0


def test_a_large_ledger_is_filtered_off_the_gui_thread(qtbot, viewer: ArchiveViewer) -> None:
    viewer.records.SYNC_LIMIT = 0  # as if the ledger held millions of records
    viewer.filters.operator.setCurrentText("Léa")
    viewer.filters.flush()
    assert viewer.searching
    assert label(viewer, "countLabel") == "Recherche en cours…"
    qtbot.waitUntil(lambda: not viewer.searching, timeout=10_000)
    rows = [viewer.model.row_at(r) for r in range(viewer.model.rowCount())]
    assert rows and {r.operator for r in rows} == {"Léa"}


def test_export_csv_through_the_button(
    qtbot, viewer: ArchiveViewer, demo: Ledger, tmp_path: Path
) -> None:
    click_quick_filter(qtbot, viewer, "Clôtures Z")
    settle(qtbot, viewer)
    out = tmp_path / "clotures.csv"
    bypass_dialog(viewer, out)
    click(qtbot, viewer, "exportCsv")
    wait_task(qtbot, viewer)

    assert label(viewer, "viewerMessage") == f"Export écrit : {out}"
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert tuple(rows[0]) == COLUMNS
    assert [r[1] for r in rows[1:]] == ["Clôture journalière"] * 4
    event = last_event(demo.path)
    assert event["code"] == "EXPORT"
    assert event["detail"]["rows"] == 4 and event["detail"]["format"] == "CSV"
    assert event["detail"]["filter"]["types"] == ["DAY_CLOSURE", "MONTH_CLOSURE", "YEAR_CLOSURE"]


def test_verify_shows_the_verdict_and_writes_a_pdf(
    qtbot, viewer: ArchiveViewer, demo: Ledger, tmp_path: Path
) -> None:
    click(qtbot, viewer, "verifyButton")
    assert viewer.findChild(QPushButton, "cancelButton").isVisible()
    qtbot.waitUntil(lambda: viewer.verdict is not None, timeout=60_000)

    assert label(viewer, "verifyResult").startswith("Journal intègre")
    assert viewer.findings.rowCount() == 0
    assert not viewer.findChild(QPushButton, "cancelButton").isVisible()
    assert last_event(demo.path)["code"] == "VERIFY"  # journaled on the shop's computer

    pdf = tmp_path / "rapport.pdf"
    bypass_dialog(viewer, pdf)
    click(qtbot, viewer, "reportButton")
    wait_task(qtbot, viewer)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"DejaVu" in data
    assert b"Helvetica" not in data  # every font embedded


def test_verify_lists_the_findings_of_a_forged_ledger(qtbot, tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        data = conn.execute("SELECT canonical FROM journal WHERE seq = 20").fetchone()[0]
        conn.execute(
            "UPDATE journal SET canonical = ? WHERE seq = 20",
            (bytes(data).replace(b'"total":', b'"total":9', 1),),
        )
        conn.commit()
    with Ledger.open(path, kind=None, readonly=True) as ledger:
        viewer = ArchiveViewer(AppContext(ledger, None))
        qtbot.addWidget(viewer)
        viewer.show()
        qtbot.waitExposed(viewer)
        assert not viewer.findChild(QPushButton, "archiveButton").isVisible()  # nobody logged in
        click(qtbot, viewer, "verifyButton")
        qtbot.waitUntil(lambda: viewer.verdict is not None, timeout=60_000)
        assert label(viewer, "verifyResult").startswith("Journal NON intègre")
        assert viewer.findings.rowCount() >= 1
        assert viewer.findings.item(0, 0).text() == "20"
        assert viewer.findings.item(0, 1).text() == "demo.sqlite"
        pos = viewer.findings.visualItemRect(viewer.findings.item(0, 0)).center()
        qtbot.mouseClick(viewer.findings.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(viewer.findings.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert viewer.current_seq() == 20
        assert label(viewer, "hashCheck").startswith("NON CONFORME")


def test_cashier_cannot_create_an_archive(qtbot, demo: Ledger) -> None:
    viewer = make_viewer(qtbot, demo, Role.CASHIER)
    assert not viewer.findChild(QPushButton, "archiveButton").isVisible()
    assert viewer.findChild(QPushButton, "exportCsv").isEnabled()


def test_main_window_shows_the_viewer(qtbot, window) -> None:
    window.nav.setCurrentRow(PAGES.index("Archives"))
    screen = window.screens["Archives"]
    assert isinstance(screen, ArchiveViewer)
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0)
    assert screen.findChild(QPushButton, "verifyButton").text() == "Vérifier l'intégrité"


@pytest.mark.skipif(not HAS_ARCHIVES, reason="app.ledger.archive.write (archives) is not there yet")
def test_open_an_archive_zip(qtbot, viewer: ArchiveViewer, demo: Ledger, tmp_path: Path) -> None:
    from app.ledger.closures import close_month

    with demo.transaction() as session:
        close_month(session, "2026-03", operator=viewer.ctx.operator_name)
    viewer.refresh()
    assert [p for p, _ in viewer.period_jobs.archivable_periods()] == ["2026-03"]
    viewer.period_jobs.create_archive("2026-03", tmp_path / "archives")
    wait_task(qtbot, viewer)
    zips = list((tmp_path / "archives").glob("*.zip"))
    assert len(zips) == 1
    assert "créée" in label(viewer, "viewerMessage")

    viewer.open_archive(zips[0])
    wait_task(qtbot, viewer)
    assert label(viewer, "sourceLabel") == f"Archive {zips[0].name}"
    assert viewer.model.rowCount() > 0
    assert not viewer.findChild(QPushButton, "fecButton").isEnabled()  # the live ledger's only
    viewer.apply_filter(RecordFilter(text="T000003"))
    assert viewer.model.rowCount() == 1
    click_row(qtbot, viewer, 0)
    assert label(viewer, "signatureStatus") == "Signature valide"

    click(qtbot, viewer, "verifyButton")
    qtbot.waitUntil(lambda: viewer.verdict is not None, timeout=60_000)
    assert viewer.verdict.archive
    assert viewer.verdict.ok, viewer.verdict.summary

    click(qtbot, viewer, "liveSource")
    assert "Journal en cours" in label(viewer, "sourceLabel")


def test_other_records_are_shown_in_french(tmp_path: Path) -> None:
    from app.ledger.export.browse import LedgerBrowser
    from app.ui.archive_viewer.printed import printed_text

    with LedgerBrowser(demo_copy(tmp_path)) as browser:
        key = printed_text(browser.detail(1))
        event = printed_text(browser.detail(2))
        settings = printed_text(browser.detail(3))
    assert key.startswith("Clé de signature K000001")
    assert "Clé publique : " in key and "Endossée par la clé précédente : non" in key
    assert event.startswith("Événement technique : Création du journal")
    assert "Raison sociale : Épicerie du Comptoir" in settings


def test_fec_of_a_fiscal_year(qtbot, viewer: ArchiveViewer, demo: Ledger, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QInputDialog

    viewer.dialogs.open_file_dialog = lambda dialog, chosen: chosen(str(tmp_path))  # type: ignore[method-assign]
    click(qtbot, viewer, "fecButton")
    dialog = viewer.findChild(QInputDialog, "fecYearDialog")
    assert dialog.comboBoxItems() == ["2026"]
    dialog.setTextValue("2026")
    dialog.accept()
    wait_task(qtbot, viewer)
    written = list(tmp_path.glob("*FEC*.txt"))
    assert len(written) == 1, label(viewer, "viewerMessage")
    assert label(viewer, "viewerMessage") == f"Export écrit : {written[0]}"
    assert last_event(demo.path)["detail"]["format"] == "FEC"
