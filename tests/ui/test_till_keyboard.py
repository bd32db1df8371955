"""A cashier's day at a 1024×768 till, by keys, scans and touches on the real widgets:
the scanner field keeps the focus, scans are never lost, quantities are typed, unusual
lines are confirmed, the day's Z is confirmed and then announced at the till."""

from __future__ import annotations

from datetime import time

import pytest
from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QPushButton, QWidget
from sqlalchemy import select

from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ui.context import AppContext
from app.ui.main_window import PAGES, MainWindow
from tests.ui.dialogs import answer_confirmation, open_confirmations

BAGUETTE = "3760123450010"  # 1,30 € at 5,5 %
WINE = "3760123450263"  # 11,50 € at 20 %
SMALL, LARGE = (1024, 768), (1920, 1080)


@pytest.fixture
def till_window(qtbot, shop):
    win = MainWindow(AppContext(shop["ledger"], shop["manager"]))
    qtbot.addWidget(win)
    win.resize(*SMALL)
    win.show()
    qtbot.waitExposed(win)
    win.till.refresh()
    return win


def _scan(qtbot, widget, code: str) -> None:
    """A scanner: the digits in a burst, then Enter."""
    qtbot.keyClicks(widget, code)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def _tile(till, name: str) -> QPushButton:
    [button] = [b for b in till.findChildren(QPushButton) if b.toolTip() == name and b.isVisible()]
    return button


def _click(qtbot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _rows(till) -> list[list[str]]:
    model = till.model
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def _events(ledger, code: str) -> list[dict]:
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical).where(JournalRecord.record_type == RecordType.EVENT)
        ).all()
    bodies = [canonical.decode(row) for row in rows]
    return [b for b in bodies if b["body"].get("code") == code]


def _answer_input(qtbot, text: str) -> None:
    """Type into the next QInputDialog (they are modal: queued before the click)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        dialog.setTextValue(text)
        dialog.accept()

    QTimer.singleShot(0, answer)


def _focus(window) -> QWidget | None:
    return window.focusWidget()


def _inside(widget: QWidget, window: QWidget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


# -- the scanner field keeps the focus --------------------------------------------------
def test_the_scanner_field_has_the_focus_from_the_start(qtbot, till_window) -> None:
    till = till_window.till
    assert _focus(till_window) is till.barcode
    _click(qtbot, till.findChild(QPushButton, "category_all"))
    assert _focus(till_window) is till.barcode
    _scan(qtbot, till.barcode, WINE)
    _click(qtbot, till.buttons["plus"])
    assert _focus(till_window) is till.barcode


def test_the_scanner_field_has_the_focus_after_payment(qtbot, till_window, shop) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    qtbot.keyClick(till.barcode, Qt.Key.Key_F12)
    dialog = till_window.findChild(QWidget, "paymentDialog")
    qtbot.waitUntil(dialog.isVisible)
    _click(qtbot, dialog.findChild(QPushButton, "cash_2000"))
    _click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: till.model.rowCount() == 0)
    assert "Ticket" in till.message.text()
    assert _focus(till_window) is till.barcode
    _scan(qtbot, till.barcode, BAGUETTE)  # the next customer's first scan is not lost
    assert till.model.rowCount() == 1


def test_a_scan_with_the_focus_in_the_search_box_is_rung_up(qtbot, till_window) -> None:
    till = till_window.till
    qtbot.mouseClick(till.search, Qt.MouseButton.LeftButton)
    assert _focus(till_window) is till.search
    qtbot.keyClicks(till.search, "pain")  # the cashier starts a search…
    qtbot.wait(120)  # …a person types slower than a scanner
    _scan(qtbot, till.search, BAGUETTE)  # …and a customer's item is scanned meanwhile

    assert _rows(till)[0][:2] == ["Baguette tradition", "1"]
    assert till.search.text() == "pain"  # the search typed by hand is left alone
    assert _focus(till_window) is till.barcode  # and the scanner field has the focus back

    qtbot.mouseClick(till.search, Qt.MouseButton.LeftButton)
    till.search.clear()
    _scan(qtbot, till.search, WINE)
    assert [row[0] for row in _rows(till)] == ["Baguette tradition", "Vin rouge AOP 75 cl"]
    assert till.search.text() == ""


def test_enter_in_the_search_box_adds_the_only_match(qtbot, till_window) -> None:
    till = till_window.till
    qtbot.mouseClick(till.search, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(till.search, "pain")
    qtbot.keyClick(till.search, Qt.Key.Key_Return)
    assert till.model.rowCount() == 0
    assert "articles correspondent" in till.message.text()

    qtbot.wait(120)
    qtbot.keyClicks(till.search, " au choc")
    qtbot.keyClick(till.search, Qt.Key.Key_Return)
    assert _rows(till)[0][:3] == ["Pain au chocolat", "1", "1,40 €"]
    assert till.message.text() == "Pain au chocolat ajouté."  # the earlier error is gone
    assert _focus(till_window) is till.barcode


# -- quantities -------------------------------------------------------------------------
def test_a_typed_quantity_then_the_scan(qtbot, till_window) -> None:
    till = till_window.till
    qtbot.keyClicks(till.barcode, "24*")
    assert till.findChild(QWidget, "pendingQuantity").text() == "24 ×"
    assert till.barcode.text() == ""
    _scan(qtbot, till.barcode, WINE)
    assert _rows(till)[0][1:3] == ["24", "11,50 €"]
    assert till.total_label.text() == "Total : 276,00 €"
    assert not till.findChild(QWidget, "pendingQuantity").isVisible()

    _scan(qtbot, till.barcode, "2*" + BAGUETTE)  # quantity and code in one entry
    assert _rows(till)[1][:2] == ["Baguette tradition", "2"]


def test_a_quantity_on_the_keypad_then_a_tile(qtbot, till_window) -> None:
    till = till_window.till
    for key in ("1", "2", "×"):
        _click(qtbot, till.keypad.buttons[key])
    _click(qtbot, _tile(till, "Croissant au beurre"))
    assert _rows(till)[0][:2] == ["Croissant au beurre", "12"]
    assert _focus(till_window) is till.barcode
    # A weight typed before touching a weighed item: no weight dialog.
    qtbot.keyClicks(till.barcode, "0,5*")
    _click(qtbot, _tile(till, "Pommes Golden"))
    assert _rows(till)[1][:3] == ["Pommes Golden", "0,5 kg", "3,49 €"]


def test_an_unusual_weight_asks_first(qtbot, till_window) -> None:
    till = till_window.till
    qtbot.keyClicks(till.barcode, "99,999*")
    _click(qtbot, _tile(till, "Pommes Golden"))
    asked = answer_confirmation(qtbot, yes=False)
    assert "99,999 kg Pommes Golden = 349,00 €" in asked
    assert "poids supérieur à 20 kg" in asked
    assert till.model.rowCount() == 0
    assert till.message.text() == "Rien n'a été ajouté."
    assert _focus(till_window) is till.barcode

    qtbot.keyClicks(till.barcode, "150*")
    _scan(qtbot, till.barcode, BAGUETTE)
    assert "plus de 100 articles" in answer_confirmation(qtbot, yes=True)
    assert _rows(till)[0][:2] == ["Baguette tradition", "150"]
    _click(qtbot, till.buttons["plus"])  # confirmed once: +1 does not ask again
    assert not open_confirmations()
    assert _rows(till)[0][1] == "151"


def test_the_hard_limit_is_refused_in_words(qtbot, till_window) -> None:
    till = till_window.till
    qtbot.keyClicks(till.barcode, "100000*")
    _scan(qtbot, till.barcode, BAGUETTE)
    assert "ne doit pas dépasser" in till.message.text()
    assert till.model.rowCount() == 0


# -- keys from the scanner field ------------------------------------------------------------
def test_suppr_escape_and_f_keys_from_the_scanner_field(qtbot, till_window) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, BAGUETTE)
    _scan(qtbot, till.barcode, WINE)
    qtbot.keyClick(till.barcode, Qt.Key.Key_F5)  # +1 on the last line
    assert _rows(till)[1][1] == "2"
    qtbot.keyClick(till.barcode, Qt.Key.Key_Delete)  # Suppr: the selected line goes
    assert [row[0] for row in _rows(till)] == ["Baguette tradition"]

    qtbot.keyClicks(till.barcode, "3*")
    qtbot.keyClicks(till.barcode, "37601")
    qtbot.keyClick(till.barcode, Qt.Key.Key_Delete)  # while typing, Suppr edits the text
    assert till.model.rowCount() == 1
    qtbot.keyClick(till.barcode, Qt.Key.Key_Escape)  # Échap: the entry and the 3 × go
    assert till.barcode.text() == ""
    assert till.pending_quantity is None
    _scan(qtbot, till.barcode, BAGUETTE)
    assert _rows(till)[0][1] == "2"


def test_the_ticket_discount_is_a_line_and_errors_clear(qtbot, till_window) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    _scan(qtbot, till.barcode, "1234567890128")
    assert "Article inconnu" in till.message.text()
    _answer_input(qtbot, "10 %")
    qtbot.keyClick(till.barcode, Qt.Key.Key_F8)
    assert _rows(till) == [
        ["Vin rouge AOP 75 cl", "1", "11,50 €", "", "20 %", "11,50 €"],
        ["Remise ticket 10 %", "", "", "-1,15 €", "", "-1,15 €"],
    ]
    assert till.total_label.text() == "Total : 10,35 €"
    assert till.message.text() == ""  # the unknown code is no longer the news
    till.table.selectRow(1)
    qtbot.keyClick(till.barcode, Qt.Key.Key_Delete)  # Suppr on the discount line
    assert till.model.rowCount() == 1
    assert till.total_label.text() == "Total : 11,50 €"


# -- the day's Z ------------------------------------------------------------------------
def test_the_z_is_confirmed_and_trading_goes_on_into_the_next_z(
    qtbot, till_window, clock, shop
) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    dialog = till.make_payment_dialog()
    qtbot.mouseClick(dialog.findChild(QPushButton, "cash_2000"), Qt.MouseButton.LeftButton)
    dialog.accepted.connect(lambda: till.record(dialog.payments))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not till.notice.isVisible()

    clock.set_local(clock.today, time(19, 0))
    till_window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = till_window.screens["Clôtures"]
    qtbot.keyClicks(closures.findChild(QWidget, "counted_cash"), "11")
    _click(qtbot, closures.findChild(QPushButton, "closeDayButton"))
    asked = answer_confirmation(qtbot, yes=False)
    assert "1 ticket — total TTC 11,50 €" in asked
    assert "Espèces : attendu 11,50 €, compté 11,00 €, écart -0,50 €" in asked
    with shop["ledger"].reader() as session:
        assert (
            session.scalar(
                select(JournalRecord.seq).where(JournalRecord.record_type == RecordType.DAY_CLOSURE)
            )
            is None
        )  # « Annuler »: nothing recorded

    _click(qtbot, closures.findChild(QPushButton, "closeDayButton"))
    answer_confirmation(qtbot, yes=True)
    qtbot.waitUntil(lambda: "ZJ000001" in closures.findChild(QWidget, "dayStatus").text())

    # Trading goes on after the Z (it no longer shuts the day): the till says so before
    # anything is scanned, and the next sale is recorded into the next closure.
    till_window.nav.setCurrentRow(PAGES.index("Caisse"))
    assert till.notice.isVisible()
    assert till.notice.text() == (
        "Journée clôturée à 19:00 (Z n° 1) — les ventes suivantes iront sur la prochaine clôture."
    )
    assert till.notice.property("role") == "note"  # news in blue, not a red refusal
    clock.advance(minutes=7)
    _scan(qtbot, till.barcode, BAGUETTE)
    qtbot.keyClick(till.barcode, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: _payment_dialog() is not None)
    payment = _payment_dialog()
    qtbot.mouseClick(payment.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(payment.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Ticket T" in till.message.text())
    assert not till.notice.isVisible()  # the new period has its first sale

    till_window.nav.setCurrentRow(PAGES.index("Clôtures"))
    _click(qtbot, closures.findChild(QPushButton, "closeDayButton"))
    asked = answer_confirmation(qtbot, yes=True)
    assert "Nouvelle clôture : les ventes faites depuis le Z n° 1." in asked
    assert "1 ticket — total TTC 1,30 €" in asked
    qtbot.waitUntil(lambda: "ZJ000002" in closures.findChild(QWidget, "dayStatus").text())
    assert not closures.findChild(QPushButton, "closeDayButton").isEnabled()  # nothing since


def test_an_invoice_is_issued_after_the_z(qtbot, till_window, clock, shop) -> None:
    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS
    from app.ledger.closures import close_day
    from app.ledger.verify.engine import verify_ledger

    ledger = shop["ledger"]
    with ledger.transaction() as session:
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
        close_day(session, clock.today, operator="Camille")
    till_window.nav.setCurrentRow(PAGES.index("Factures"))
    editor = till_window.screens["Factures"].new_invoice()
    qtbot.addWidget(editor)
    _click(qtbot, editor.findChild(QPushButton, "addFree"))
    editor.model.setData(editor.model.index(0, 0), "Plateau traiteur")
    editor.model.setData(editor.model.index(0, 3), "120,00")
    _click(qtbot, editor.findChild(QPushButton, "issueInvoice"))
    for box in open_confirmations():  # issuing may ask first
        _click(qtbot, box.findChild(QPushButton, "confirmYes"))
    qtbot.waitUntil(lambda: editor.result_value is not None or bool(editor.error.text()))
    assert editor.result_value is not None, editor.error.text()
    assert editor.result_value.doc_number == "F2026-000001"
    assert verify_ledger(ledger.target).ok


def test_a_sale_paid_as_midnight_passes_is_recorded(qtbot, till_window, clock, shop) -> None:
    """The customer pays across midnight with the day unclosed: « Valider » never refuses;
    the closure the new day makes due is made automatically, before the ticket."""
    from datetime import timedelta

    from tests.helpers import ring

    till = till_window.till
    monday = clock.today
    ring(shop["ledger"], operator="Camille")  # the day has sales, not closed
    clock.set_local(monday, time(23, 58))
    _scan(qtbot, till.barcode, WINE)
    qtbot.keyClick(till.barcode, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: _payment_dialog() is not None)
    payment = _payment_dialog()
    _click(qtbot, payment.findChild(QPushButton, "pay_card"))
    clock.set_local(monday + timedelta(days=1), time(0, 1))
    _click(qtbot, payment.ok_button)
    qtbot.waitUntil(lambda: "Ticket T" in till.message.text())
    assert "Clôture automatique : la journée du " in till.message.text()
    with shop["ledger"].reader() as session:
        rows = session.execute(
            select(JournalRecord.record_type, JournalRecord.business_date)
            .where(JournalRecord.record_type.in_(["TICKET", "DAY_CLOSURE"]))
            .order_by(JournalRecord.seq)
        ).all()
    day_after = (monday + timedelta(days=1)).isoformat()
    assert [tuple(r) for r in rows] == [
        ("TICKET", monday.isoformat()),
        ("DAY_CLOSURE", day_after),  # Monday's Z, made at 00:01
        ("TICKET", day_after),
    ]


def _payment_dialog():
    from app.ui.till.payment_dialog import PaymentDialog

    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, PaymentDialog)]
    return next((w for w in shown if w.isVisible()), None)


# -- operators ----------------------------------------------------------------------------
def test_login_by_the_pin_pad_and_a_stray_enter_is_not_a_failure(qtbot, shop) -> None:
    from app.ui.login import LoginDialog

    ledger = shop["ledger"]
    dialog = LoginDialog(ledger)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.pin
    for _ in range(6):  # more than the lockout allows
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.error.text() == "Saisissez votre code PIN."
    assert _events(ledger, "LOGIN_FAILED") == []
    for key in "1234":
        _click(qtbot, dialog.pad.buttons[key])
    assert dialog.pin.text() == "1234"
    _click(qtbot, dialog.pad.buttons["←"])
    _click(qtbot, dialog.pad.buttons["4"])
    for button in dialog.pad.buttons.values():
        assert button.height() >= 48 and button.width() >= 48
    _click(qtbot, dialog.findChild(QPushButton, "loginOk"))
    assert dialog.operator is not None and dialog.operator.name == "Camille"


def test_change_operator_without_quitting_keeps_the_cart(qtbot, till_window, shop) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    _click(qtbot, till_window.findChild(QPushButton, "switchOperator"))
    dialog = till_window.findChild(QWidget, "switchOperatorDialog")
    qtbot.waitUntil(dialog.isVisible)
    dialog.names.setCurrentIndex(dialog.names.findData("Yanis"))
    for key in "5678":
        _click(qtbot, dialog.pad.buttons[key])
    _click(qtbot, dialog.findChild(QPushButton, "loginOk"))

    assert till_window.ctx.operator_name == "Yanis"
    assert "Opérateur : Yanis" in till_window.banner.text()
    assert _rows(till)[0][0] == "Vin rouge AOP 75 cl"
    assert [e["operator"] for e in _events(shop["ledger"], "LOGOUT")] == ["Camille"]
    assert _focus(till_window) is till.barcode


def test_lock_hides_the_till_until_a_pin_and_keeps_the_cart(qtbot, till_window) -> None:
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    _click(qtbot, till_window.findChild(QPushButton, "lockTill"))
    dialog = till_window.findChild(QWidget, "lockDialog")
    qtbot.waitUntil(dialog.isVisible)
    assert not till.isVisible()
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible()  # neither Échap nor closing unlocks
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.error.text() == "Code PIN incorrect."
    qtbot.keyClicks(dialog.pin, "1234")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(till.isVisible)
    assert till_window.ctx.operator_name == "Camille"
    assert _rows(till)[0][0] == "Vin rouge AOP 75 cl"


# -- sizes --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [SMALL, (1366, 768), LARGE])
def test_the_till_fits_the_screen(qtbot, till_window, size) -> None:
    till_window.resize(*size)
    qtbot.waitUntil(lambda: till_window.size().width() == size[0])
    hint = till_window.minimumSizeHint()
    assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1]
    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    for widget in (till.table, till.total_label, till.buttons["pay"], till.barcode):
        assert widget.isVisible() and _inside(widget, till_window)
    for button in till.findChildren(QPushButton):
        if button.isVisible():
            assert button.height() >= 48 and button.width() >= 48, button.text()


def test_a_long_message_never_widens_the_window(qtbot, till_window) -> None:
    till_window.nav.setCurrentRow(PAGES.index("Archives"))
    viewer = till_window.screens["Archives"]
    long_text = "Enregistrement n° 123456 : empreinte recalculée différente " * 40
    for label in (viewer.message, viewer.verify_result):
        label.setText(long_text)
    qtbot.wait(10)
    assert till_window.minimumSizeHint().width() <= SMALL[0]
    assert till_window.width() == SMALL[0]


def test_screenshots_of_the_till_and_login(qtbot, till_window, tmp_path) -> None:
    """What a cashier sees at both ends of the range: the images must not be empty."""
    from app.ui.login import LoginDialog

    till = till_window.till
    _scan(qtbot, till.barcode, WINE)
    for size in (SMALL, LARGE):
        till_window.resize(*size)
        qtbot.waitUntil(lambda s=size: till_window.width() == s[0])
        image = till_window.grab()
        assert (image.width(), image.height()) == size
        assert image.save(str(tmp_path / f"till-{size[0]}.png"))
    dialog = LoginDialog(till_window.ctx.ledger)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.grab().save(str(tmp_path / "login.png"))
