"""Ringing up sales at the till, as a cashier would, with real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import select

from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ui.context import AppContext
from app.ui.main_window import PAGES, MainWindow
from app.ui.till.cart_model import CartModel
from app.ui.till.payment_dialog import PaymentDialog

BAGUETTE = "3760123450010"  # 1,30 € at 5,5 %
WINE = "3760123450263"  # 11,50 € at 20 %


def _scan(qtbot, till, code: str) -> None:
    qtbot.keyClicks(till.barcode, code)
    qtbot.keyClick(till.barcode, Qt.Key.Key_Return)


def _tickets(ledger) -> list[dict]:
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical)
            .where(JournalRecord.record_type == RecordType.TICKET)
            .order_by(JournalRecord.seq)
        ).all()
    return [canonical.decode(row)["body"] for row in rows]


def _pay(qtbot, till, steps) -> PaymentDialog:
    dialog = till.make_payment_dialog()
    dialog.accepted.connect(lambda: till.record(dialog.payments))
    for step in steps:
        step(dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return dialog


def test_scan_pay_with_card_and_cash_and_see_change(qtbot, window, shop) -> None:
    till = window.till
    _scan(qtbot, till, BAGUETTE)
    _scan(qtbot, till, BAGUETTE)
    _scan(qtbot, till, WINE)
    assert till.model.rowCount() == 2
    assert till.model.index(0, 1).data() == "2"
    assert till.total_label.text() == "Total : 14,10 €"

    def card_10(dialog: PaymentDialog) -> None:
        qtbot.keyClicks(dialog.amount, "10")
        qtbot.mouseClick(dialog.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)

    def cash_5(dialog: PaymentDialog) -> None:
        qtbot.mouseClick(dialog.findChild(QPushButton, "cash_500"), Qt.MouseButton.LeftButton)
        assert dialog.change_label.text() == "Rendu monnaie : 0,90 €"

    _pay(qtbot, till, [card_10, cash_5])
    assert "rendu monnaie : 0,90 €" in till.message.text()
    assert till.model.rowCount() == 0
    # The change due stays large where the total was, until the next sale starts.
    assert till.total_label.text() == "À rendre : 0,90 €"
    _scan(qtbot, till, BAGUETTE)
    assert till.total_label.text() == "Total : 1,30 €"
    [body] = _tickets(shop["ledger"])
    assert body["total"] == 1410 and body["change"] == 90
    assert body["payments"] == [
        {"method": "card", "amount": 1000},
        {"method": "cash", "amount": 410},
    ]


def test_unknown_or_bad_code_adds_nothing(qtbot, window) -> None:
    till = window.till
    _scan(qtbot, till, "1234567890128")
    assert "Article inconnu" in till.message.text()
    _scan(qtbot, till, "1234567890123")
    assert "clé de contrôle" in till.message.text()
    assert till.model.rowCount() == 0


def test_scale_label_adds_the_weight(qtbot, window) -> None:
    from stdnum import ean

    code = "2100006" + "00347"  # Comté, 347 g
    _scan(qtbot, window.till, code + ean.calc_check_digit(code))
    assert window.till.model.index(0, 1).data() == "0,347 kg"
    assert window.till.total_label.text() == "Total : 10,03 €"


def test_payment_is_refused_until_fully_paid(qtbot, window) -> None:
    _scan(qtbot, window.till, WINE)
    dialog = window.till.make_payment_dialog()
    qtbot.mouseClick(dialog.findChild(QPushButton, "cash_500"), Qt.MouseButton.LeftButton)
    assert not dialog.ok_button.isEnabled()
    assert dialog.remaining_label.text() == "Reste dû : 6,50 €"
    qtbot.keyClicks(dialog.amount, "20")
    qtbot.mouseClick(dialog.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)
    assert "seules les espèces" in dialog.error_label.text()
    assert not dialog.ok_button.isEnabled()


def test_park_and_resume(qtbot, window, shop) -> None:
    till = window.till
    _scan(qtbot, till, WINE)
    qtbot.mouseClick(till.buttons["park"], Qt.MouseButton.LeftButton)
    assert till.model.rowCount() == 0
    assert "attente" in till.message.text()
    from app.sales.parking import parked_tickets

    [parked] = window.ctx.read(parked_tickets)
    till.resume_parked(parked.id)
    assert till.model.rowCount() == 1
    assert till.total_label.text() == "Total : 11,50 €"
    assert window.ctx.read(parked_tickets) == []


def test_quantity_keys_and_delete_before_payment(qtbot, window) -> None:
    till = window.till
    _scan(qtbot, till, BAGUETTE)
    qtbot.mouseClick(till.buttons["plus"], Qt.MouseButton.LeftButton)
    assert till.model.index(0, 1).data() == "2"
    qtbot.mouseClick(till.buttons["minus"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(till.buttons["deleteLine"], Qt.MouseButton.LeftButton)
    assert till.model.rowCount() == 0
    assert till.buttons["pay"].text() == "Payer\n(F12)"


def test_refund_a_line_with_manager_pin(qtbot, window, shop) -> None:
    till = window.till
    _scan(qtbot, till, BAGUETTE)
    _scan(qtbot, till, WINE)
    _pay(
        qtbot,
        till,
        [
            lambda d: qtbot.mouseClick(
                d.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton
            )
        ],
    )
    dialog = window.open_correction()
    dialog.lines.item(1).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.reason, "Vin bouchonne")  # QTest types ASCII only
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.mouseClick(dialog.findChild(QPushButton, "refundLines"), Qt.MouseButton.LeftButton)
    assert "PIN de gérant incorrect" in dialog.error.text()
    dialog.pin.clear()
    qtbot.keyClicks(dialog.pin, "1234")
    qtbot.mouseClick(dialog.findChild(QPushButton, "refundLines"), Qt.MouseButton.LeftButton)
    _sale, refund = _tickets(shop["ledger"])
    assert refund["kind"] == "refund" and refund["total"] == -1150
    assert refund["original"]["number"] == 1


def test_cashier_cannot_sell_as_accountant_reaches_closures(qtbot, shop) -> None:
    from app.ledger.operators import OperatorInfo, Role

    accountant = OperatorInfo(99, "Expert", Role.ACCOUNTANT)
    win = MainWindow(AppContext(shop["ledger"], accountant))
    qtbot.addWidget(win)
    assert win.nav.currentRow() == PAGES.index("Clôtures")


def test_cart_model_passes_the_model_tester(qtmodeltester, window) -> None:
    model: CartModel = window.till.model
    _scan_lines = [BAGUETTE, WINE]
    for code in _scan_lines:
        window.till.barcode.setText(code)
        window.till.scan()
    qtmodeltester.check(model)


def test_banner_names_an_unclosed_day(qtbot, window, shop, clock) -> None:
    _scan(qtbot, window.till, WINE)
    _pay(
        qtbot,
        window.till,
        [
            lambda d: qtbot.mouseClick(
                d.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton
            )
        ],
    )
    clock.advance(days=1)
    window.refresh_banner()
    assert "À clôturer : la journée du 02/03/2026" in window.banner.text()
