"""The Clôtures screen, clicked offscreen over a real ledger."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ledger.closures import get_closure, list_closures
from app.ledger.operators import Role
from app.ledger.records import RecordType
from app.sales.payments import PaymentMethod
from app.staff.service import add_operator
from app.ui.closures.closures_screen import ClosuresScreen
from app.ui.context import AppContext
from app.ui.models import ClosureListModel
from tests.helpers import ring
from tests.ui.dialogs import answer_confirmation

MONDAY = date(2026, 3, 2)


def make_context(ledger, role: Role = Role.MANAGER, name: str = "Camille") -> AppContext:
    with ledger.transaction() as session:
        operator = add_operator(session, name, role, "1234", operator="Camille")
    return AppContext(ledger, operator)


def make_screen(qtbot, ctx: AppContext) -> ClosuresScreen:
    screen = ClosuresScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def day_closures(ledger):
    with ledger.reader() as session:
        return list_closures(session, RecordType.DAY_CLOSURE)


def error_dialogs() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
    ]


@pytest.fixture
def ctx(ledger) -> AppContext:
    return make_context(ledger)


def test_close_day_with_a_cash_difference(qtbot, ledger, clock, ctx) -> None:
    ring(
        ledger,
        ("Pain", 130, 2, 550),
        ("Vin", 1150, 1, 2000),
        method=PaymentMethod.CASH,
        operator="Camille",
    )
    ring(ledger, ("Sandwich", 550, 1, 1000), method=PaymentMethod.CARD, operator="Camille")
    clock.set_local(MONDAY, time(19, 0))
    screen = make_screen(qtbot, ctx)
    find = screen.findChild

    assert not find(object, "pendingBanner").isVisible()
    assert find(object, "dayEdit").text() == "02/03/2026"
    assert find(object, "expected_cash").text() == "14,10 €"
    assert find(object, "expected_card").text() == "5,50 €"

    qtbot.keyClicks(find(object, "counted_cash"), "14,00")
    difference = find(object, "difference_cash")
    assert difference.text() == "-0,10 €"
    assert "#c62828" in difference.styleSheet()  # red: the till is short
    qtbot.keyClicks(find(object, "counted_card"), "5,50")
    assert find(object, "difference_card").text() == "0,00 €"
    assert "#c62828" not in find(object, "difference_card").styleSheet()

    qtbot.mouseClick(find(object, "closeDayButton"), Qt.MouseButton.LeftButton)
    assert day_closures(ledger) == []  # nothing before the cashier confirms
    with qtbot.waitSignal(screen.closure_recorded) as made:
        asked = answer_confirmation(qtbot)
    assert "Clôturer la journée du 02/03/2026 ?" in asked
    assert "2 tickets — total TTC 19,60 €" in asked
    assert "Espèces : attendu 14,10 €, compté 14,00 €, écart -0,10 €" in asked
    assert "Écart total : -0,10 €" in asked

    assert made.args[0].period == "2026-03-02"
    model = find(object, "closureTable").model()
    assert model.rowCount() == 1
    assert [model.index(0, c).data() for c in (0, 1, 2)] == [
        "Journalière",
        "02/03/2026",
        "ZJ000001",
    ]
    assert model.index(0, 5).data() == "19,60 €"
    text = find(object, "closureText").toPlainText()
    assert "Espèces compté" in text and "-0,10 €" in text
    assert find(object, "counted_cash").text() == ""
    assert "ZJ000001" in find(object, "dayStatus").text()
    assert not find(object, "closeDayButton").isEnabled()  # this day is closed now
    with ledger.reader() as session:
        closure = get_closure(session, RecordType.DAY_CLOSURE, "2026-03-02")
    counted = {c["method"]: c for c in closure.body["counted"]}
    assert (counted["cash"]["expected"], counted["cash"]["counted"]) == (1410, 1400)
    assert counted["cash"]["difference"] == -10
    assert counted["card"]["difference"] == 0
    assert closure.operator == "Camille"


def test_bad_counted_amount_is_shown_and_nothing_recorded(qtbot, ledger, clock, ctx) -> None:
    ring(ledger, method=PaymentMethod.CASH, operator="Camille")
    screen = make_screen(qtbot, ctx)
    qtbot.keyClicks(screen.findChild(object, "counted_cash"), "12,345")
    error = screen.findChild(object, "countedError_cash")
    assert error.isVisible()
    assert "deux décimales" in error.text()
    assert screen.findChild(object, "difference_cash").text() == "—"

    qtbot.mouseClick(screen.findChild(object, "closeDayButton"), Qt.MouseButton.LeftButton)

    assert day_closures(ledger) == []
    assert "rien n'a été enregistré" in screen.findChild(object, "dayStatus").text()
    assert screen.findChild(object, "closureTable").model().rowCount() == 0


def test_pending_day_banner_and_default_day(qtbot, ledger, clock, ctx) -> None:
    ring(ledger, method=PaymentMethod.CASH, operator="Camille")
    clock.set_local(MONDAY + timedelta(days=2))
    screen = make_screen(qtbot, ctx)
    banner = screen.findChild(object, "pendingBanner")
    assert banner.isVisible()
    assert banner.text() == "La journée du 02/03/2026 n'est pas clôturée."
    assert screen.findChild(object, "dayEdit").text() == "02/03/2026"

    qtbot.mouseClick(screen.findChild(object, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)

    assert [c.period for c in day_closures(ledger)] == ["2026-03-02"]
    assert not banner.isVisible()
    assert screen.findChild(object, "dayEdit").text() == "04/03/2026"


def test_refused_closure_shows_the_error_dialog(qtbot, ledger, clock, ctx) -> None:
    ring(ledger, method=PaymentMethod.CASH, operator="Camille")
    clock.set_local(MONDAY + timedelta(days=2))
    screen = make_screen(qtbot, ctx)
    day_edit = screen.findChild(object, "dayEdit")
    day_edit.setDate(MONDAY + timedelta(days=1))  # Tuesday, while Monday is still open

    qtbot.mouseClick(screen.findChild(object, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)

    qtbot.waitUntil(lambda: bool(error_dialogs()))
    dialog = error_dialogs()[0]
    assert "02/03/2026" in dialog.text()
    dialog.close()
    assert day_closures(ledger) == []


def test_manager_closes_the_month(qtbot, ledger, clock, ctx) -> None:
    ring(ledger, method=PaymentMethod.CARD, operator="Camille")
    clock.set_local(MONDAY, time(19, 0))
    screen = make_screen(qtbot, ctx)
    qtbot.mouseClick(screen.findChild(object, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    clock.set_local(date(2026, 4, 1))
    screen.refresh()
    banner = screen.findChild(object, "pendingBanner")
    assert banner.text() == "Le mois de mars 2026 n'est pas clôturé."
    combo = screen.findChild(object, "monthCombo")
    assert combo.currentData() == "2026-03"
    button = screen.findChild(object, "closeMonthButton")
    assert button.isEnabled()
    assert not screen.findChild(object, "periodNotice").isVisible()

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    with ledger.reader() as session:
        month = get_closure(session, RecordType.MONTH_CLOSURE, "2026-03")
    assert month is not None and month.grand_total == 260
    model = screen.findChild(object, "closureTable").model()
    assert [model.index(r, 0).data() for r in range(2)] == ["Mensuelle", "Journalière"]
    assert model.index(0, 1).data() == "mars 2026"
    assert not button.isEnabled() and button.text() == "Mois déjà clôturé"
    assert not banner.isVisible()


def test_cashier_cannot_close_a_month(qtbot, ledger, clock) -> None:
    cashier = make_context(ledger, Role.CASHIER, "Yanis")
    screen = make_screen(qtbot, cashier)
    for name in ("closeMonthButton", "closeYearButton"):
        button = screen.findChild(object, name)
        assert not button.isEnabled()
        assert "Seul un gérant" in button.toolTip()
    assert screen.findChild(object, "periodNotice").isVisible()
    assert screen.findChild(object, "closeDayButton").isEnabled()


def test_reprint_emits_the_selected_closure(qtbot, ledger, clock, ctx) -> None:
    ring(ledger, method=PaymentMethod.CASH, operator="Camille")
    clock.set_local(MONDAY, time(19, 0))
    screen = make_screen(qtbot, ctx)
    qtbot.mouseClick(screen.findChild(object, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    table = screen.findChild(object, "closureTable")
    table.clearSelection()
    reprint = screen.findChild(object, "reprintButton")
    assert not reprint.isEnabled()
    assert screen.findChild(object, "closureText").toPlainText() == ""

    rect = table.visualRect(table.model().index(0, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "Journée du 02/03/2026" in screen.findChild(object, "closureText").toPlainText()
    with qtbot.waitSignal(screen.reprint_requested) as asked:
        qtbot.mouseClick(reprint, Qt.MouseButton.LeftButton)
    assert asked.args[0].record_type is RecordType.DAY_CLOSURE
    assert asked.args[0].number == 1


def test_closure_list_model(qtmodeltester, ledger, clock) -> None:
    ring(ledger, method=PaymentMethod.CASH)
    from app.ledger.closures import close_day, close_month

    with ledger.transaction() as session:
        close_day(session, MONDAY, operator="Camille", counted={"cash": 200})
    clock.set_local(date(2026, 4, 1))
    with ledger.transaction() as session:
        close_month(session, "2026-03", operator="Camille")
    with ledger.reader() as session:
        closures = [
            *list_closures(session, RecordType.MONTH_CLOSURE),
            *list_closures(session, RecordType.DAY_CLOSURE),
        ]
    model = ClosureListModel("Europe/Paris")
    model.set_rows(closures)
    qtmodeltester.check(model)
    assert model.index(1, 3).data() == "02/03/2026 09:00"
    assert model.index(1, 6).data() == "2,60 €"
