"""First run and login, as a new shop would meet them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import select

from app.catalog.models import Product
from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.settings import fiscal_settings
from app.ui.first_run import FirstRunDialog
from app.ui.login import LoginDialog


def _fill(dialog: FirstRunDialog, **values: str) -> None:
    for name, value in values.items():
        dialog.fields[name].setText(value)  # QTest types ASCII only: set accented text


def test_first_run_records_identity_manager_and_demo_catalog(qtbot, ledger) -> None:
    dialog = FirstRunDialog(ledger)
    qtbot.addWidget(dialog)
    _fill(
        dialog,
        name="Épicerie Test",
        siret="123 456 782 00010",
        address="1 rue Haute",
        postcode="69001",
        city="Lyon",
    )
    qtbot.keyClicks(dialog.manager, "Camille")
    qtbot.keyClicks(dialog.pin, "12")
    qtbot.mouseClick(dialog.findChild(QPushButton, "firstRunOk"), Qt.MouseButton.LeftButton)
    assert "4 à 8 chiffres" in dialog.error.text()
    with ledger.reader() as session:
        assert not fiscal_settings(session).is_complete  # nothing half-written
    dialog.pin.setText("1234")
    dialog.save()
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    with ledger.reader() as session:
        shop = fiscal_settings(session)
        assert shop.siret == "12345678200010" and shop.name == "Épicerie Test"
        assert len(session.scalars(select(Product)).all()) == 30


def test_bad_siret_is_refused_next_to_the_form(qtbot, ledger) -> None:
    dialog = FirstRunDialog(ledger)
    qtbot.addWidget(dialog)
    _fill(dialog, name="X", siret="12345678200011", address="a", city="b")
    dialog.manager.setText("Camille")
    dialog.pin.setText("1234")
    dialog.save()
    assert "SIRET invalide" in dialog.error.text()


def test_login_with_pin_and_journaled_failure(qtbot, window, shop) -> None:
    ledger = shop["ledger"]
    dialog = LoginDialog(ledger)
    qtbot.addWidget(dialog)
    dialog.names.setCurrentIndex(dialog.names.findData("Yanis"))
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.error.text() == "Code PIN incorrect."
    qtbot.keyClicks(dialog.pin, "5678")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.operator is not None and dialog.operator.name == "Yanis"
    with ledger.reader() as session:
        rows = session.scalars(select(JournalRecord.canonical).order_by(JournalRecord.seq)).all()
    codes = [canonical.decode(r)["body"].get("code") for r in rows[-2:]]
    assert codes == ["LOGIN_FAILED", "LOGIN"]


def test_cashier_finds_month_closing_refused(qtbot, shop) -> None:
    from app.ui.context import AppContext
    from app.ui.main_window import PAGES, MainWindow

    win = MainWindow(AppContext(shop["ledger"], shop["cashier"]))
    qtbot.addWidget(win)
    win.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = win.screens["Clôtures"]
    assert not closures.close_month_button.isEnabled()
    assert "gérant" in closures.close_month_button.toolTip()


def test_first_run_sets_the_till_id(qtbot, ledger) -> None:
    from app.ledger.preferences import till_id

    dialog = FirstRunDialog(ledger)
    qtbot.addWidget(dialog)
    _fill(dialog, name="Boutique", siret="12345678200010", address="1 rue", city="Lyon")
    dialog.manager.setText("Camille")
    dialog.pin.setText("1234")
    dialog.till.setText("comptoir 2")
    dialog.save()
    assert "Identifiant de caisse" in dialog.error.text()
    dialog.till.setText("caisse-2")
    dialog.save()
    with ledger.reader() as session:
        assert till_id(session) == "CAISSE-2"
    assert ledger.till_id == "CAISSE-2"
