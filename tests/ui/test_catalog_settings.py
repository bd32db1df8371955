"""The Catalogue and Réglages screens, clicked offscreen over a real ledger."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QCheckBox
from sqlalchemy import func, select
from stdnum import ean as stdnum_ean

from app.catalog.models import Product
from app.catalog.service import save_product
from app.documents.preferences import printer_config, receipt_texts
from app.ledger.models import JournalRecord
from app.ledger.operators import Role
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings
from app.staff.service import add_operator, list_operators
from app.ui.context import AppContext
from app.ui.models import OperatorTableModel, ProductFilterProxy, ProductTableModel
from app.ui.settings.catalog_screen import CatalogScreen, all_products
from app.ui.settings.settings_screen import SettingsScreen

LEFT = Qt.MouseButton.LeftButton


def make_context(ledger, role: Role = Role.MANAGER, name: str = "Camille") -> AppContext:
    with ledger.transaction() as session:
        operator = add_operator(session, name, role, "1234", operator="Camille")
    return AppContext(ledger, operator)


@pytest.fixture
def ctx(ledger) -> AppContext:
    return make_context(ledger)


def shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tick(qtbot, check: QCheckBox) -> None:
    """Click on the box itself (the middle of a wide check box is outside its hit area)."""
    qtbot.mouseClick(check, LEFT, pos=QPoint(12, check.height() // 2))


def type_text(qtbot, widget, text: str) -> None:
    """Type like a keyboard; QTest.keyClicks only knows ASCII, French has accents."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def type_into(qtbot, widget, text: str) -> None:
    widget.clear()
    type_text(qtbot, widget, text)


def count_products(ledger) -> int:
    with ledger.reader() as session:
        return session.scalar(select(func.count()).select_from(Product))


def settings_records(ledger) -> int:
    with ledger.reader() as session:
        return session.scalar(
            select(func.count())
            .select_from(JournalRecord)
            .where(JournalRecord.record_type == RecordType.SETTINGS)
        )


# -- Catalogue -------------------------------------------------------------------------
def test_add_a_product_then_find_it(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, CatalogScreen(ctx))
    code = "376099900001" + stdnum_ean.calc_check_digit("376099900001")
    find = screen.findChild
    type_text(qtbot, find(object, "nameEdit"), "Tomme de Savoie")
    type_text(qtbot, find(object, "eanEdit"), code)
    type_text(qtbot, find(object, "categoryCombo").lineEdit(), "Crèmerie")
    type_text(qtbot, find(object, "priceEdit"), "12,90")
    vat = find(object, "vatCombo")
    vat.setCurrentIndex(vat.findText("5,5 %"))
    tick(qtbot, find(object, "weighedCheck"))
    assert find(object, "weighedCheck").isChecked()

    qtbot.mouseClick(find(object, "saveProductButton"), LEFT)

    assert not find(object, "formError").isVisible()
    assert "Tomme de Savoie" in find(object, "formStatus").text()
    with ledger.reader() as session:
        [product] = all_products(session)
    assert (product.name, product.ean, product.category) == ("Tomme de Savoie", code, "Crèmerie")
    assert (product.price_cents, product.vat_rate_bp, product.weighed) == (1290, 550, True)

    qtbot.mouseClick(find(object, "newProductButton"), LEFT)
    type_text(qtbot, find(object, "nameEdit"), "Comté 18 mois")
    type_text(qtbot, find(object, "priceEdit"), "29,90")
    qtbot.mouseClick(find(object, "saveProductButton"), LEFT)
    assert count_products(ledger) == 2

    type_text(qtbot, find(object, "searchEdit"), "tomme")
    table = find(object, "productTable")
    assert table.model().rowCount() == 1
    row = [table.model().index(0, c).data() for c in range(7)]
    assert row == ["Tomme de Savoie", code, "Crèmerie", "12,90 € /kg", "5,5 %", "Oui", "Oui"]
    type_into(qtbot, find(object, "searchEdit"), "comte")  # accents ignored
    assert table.model().index(0, 0).data() == "Comté 18 mois"
    assert "1 article(s) sur 2" in find(object, "productCount").text()


def test_bad_ean_is_shown_next_to_the_form(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, CatalogScreen(ctx))
    type_text(qtbot, screen.findChild(object, "nameEdit"), "Mystère")
    type_text(qtbot, screen.findChild(object, "eanEdit"), "3760123450011")  # wrong check digit
    type_text(qtbot, screen.findChild(object, "priceEdit"), "2,00")

    qtbot.mouseClick(screen.findChild(object, "saveProductButton"), LEFT)

    error = screen.findChild(object, "formError")
    assert error.isVisible()
    assert "Code-barres invalide" in error.text()
    assert count_products(ledger) == 0
    assert screen.findChild(object, "productTable").model().rowCount() == 0


def test_bad_price_is_refused_before_writing(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, CatalogScreen(ctx))
    type_text(qtbot, screen.findChild(object, "nameEdit"), "Pomme")
    type_text(qtbot, screen.findChild(object, "priceEdit"), "douze")
    qtbot.mouseClick(screen.findChild(object, "saveProductButton"), LEFT)
    assert "Prix" in screen.findChild(object, "formError").text()
    assert count_products(ledger) == 0


def test_edit_a_product_from_the_table(qtbot, ledger, ctx) -> None:
    with ledger.transaction() as session:
        save_product(session, name="Baguette", price_cents=120, vat_rate_bp=550, operator="Camille")
    screen = shown(qtbot, CatalogScreen(ctx))
    table = screen.findChild(object, "productTable")
    rect = table.visualRect(table.model().index(0, 0))
    qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
    price = screen.findChild(object, "priceEdit")
    assert price.text() == "1,20"
    assert screen.findChild(object, "productForm").title() == "Modifier : Baguette"
    type_into(qtbot, price, "1,30")
    tick(qtbot, screen.findChild(object, "activeCheck"))

    qtbot.mouseClick(screen.findChild(object, "saveProductButton"), LEFT)

    with ledger.reader() as session:
        [product] = all_products(session)
    assert (product.price_cents, product.active) == (130, False)
    assert table.model().index(0, 6).data() == "Non"  # still listed, to be put back on sale


def test_demo_catalog_and_read_only_cashier(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, CatalogScreen(ctx))
    qtbot.mouseClick(screen.findChild(object, "demoButton"), LEFT)
    added = count_products(ledger)
    assert added >= 20
    assert screen.findChild(object, "productTable").model().rowCount() == added
    assert f"{added} article(s) de démonstration" in screen.findChild(object, "formStatus").text()

    cashier = shown(qtbot, CatalogScreen(make_context(ledger, Role.CASHIER, "Yanis")))
    assert cashier.findChild(object, "catalogReadOnly").isVisible()
    assert not cashier.findChild(object, "saveProductButton").isEnabled()
    assert not cashier.findChild(object, "demoButton").isEnabled()
    assert not cashier.findChild(object, "nameEdit").isEnabled()


def test_product_models(qtmodeltester, ledger) -> None:
    with ledger.transaction() as session:
        save_product(
            session,
            name="Café moulu",
            price_cents=450,
            vat_rate_bp=550,
            category="Épicerie",
            operator="Camille",
        )
        save_product(
            session,
            name="Vin rouge",
            price_cents=890,
            vat_rate_bp=2000,
            active=False,
            operator="Camille",
        )
        products = all_products(session)
    model = ProductTableModel()
    model.set_rows(products)
    qtmodeltester.check(model)
    proxy = ProductFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_text("CAFE")
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1


# -- Réglages --------------------------------------------------------------------------
def fill_identity(qtbot, screen, **values: str) -> None:
    for name, value in values.items():
        type_into(qtbot, screen.findChild(object, f"fiscal_{name}"), value)


def test_saving_the_fiscal_identity_is_journaled(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, SettingsScreen(ctx))
    fill_identity(
        qtbot,
        screen,
        name="Épicerie du Comptoir",
        siret="123 456 782 00010",
        vat_number="FR11123456782",
        address="12 rue des Halles",
        postcode="69001",
        city="Lyon",
    )
    regime = screen.findChild(object, "vatRegimeCombo")
    regime.setCurrentIndex(regime.findData("reel_simplifie"))
    tick(qtbot, screen.findChild(object, "vatOnDebitsCheck"))

    qtbot.mouseClick(screen.findChild(object, "saveFiscalButton"), LEFT)

    assert not screen.findChild(object, "fiscalError").isVisible()
    assert settings_records(ledger) == 1
    with ledger.reader() as session:
        shop = fiscal_settings(session)
    assert (shop.name, shop.siret, shop.city) == ("Épicerie du Comptoir", "12345678200010", "Lyon")
    assert (shop.vat_regime, shop.vat_on_debits) == ("reel_simplifie", True)
    assert "journal" in screen.findChild(object, "fiscalStatus").text()
    assert screen.findChild(object, "fiscal_siret").text() == "12345678200010"

    qtbot.mouseClick(screen.findChild(object, "saveFiscalButton"), LEFT)
    assert settings_records(ledger) == 1  # nothing changed, nothing journaled
    assert screen.findChild(object, "fiscalStatus").text() == "Aucun changement à enregistrer."


def test_bad_siret_is_shown_and_not_journaled(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, SettingsScreen(ctx))
    fill_identity(qtbot, screen, name="Boulangerie", siret="12345678200011", city="Lyon")
    qtbot.mouseClick(screen.findChild(object, "saveFiscalButton"), LEFT)
    error = screen.findChild(object, "fiscalError")
    assert error.isVisible() and "SIRET invalide" in error.text()
    assert settings_records(ledger) == 0


def test_operator_with_mismatched_pins_is_refused(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, SettingsScreen(ctx))
    screen.findChild(object, "settingsTabs").setCurrentIndex(1)
    type_text(qtbot, screen.findChild(object, "operatorNameEdit"), "Léa")
    type_text(qtbot, screen.findChild(object, "pinEdit"), "4321")
    type_text(qtbot, screen.findChild(object, "pinConfirmEdit"), "4312")

    qtbot.mouseClick(screen.findChild(object, "addOperatorButton"), LEFT)

    error = screen.findChild(object, "operatorError")
    assert error.isVisible() and "ne correspondent pas" in error.text()
    with ledger.reader() as session:
        assert [o.name for o in list_operators(session)] == ["Camille"]

    type_into(qtbot, screen.findChild(object, "pinConfirmEdit"), "4321")
    roles = screen.findChild(object, "roleCombo")
    roles.setCurrentIndex(roles.findText("Comptable"))
    qtbot.mouseClick(screen.findChild(object, "addOperatorButton"), LEFT)

    assert not error.isVisible()
    with ledger.reader() as session:
        added = {o.name: o.role for o in list_operators(session)}
    assert added == {"Camille": Role.MANAGER, "Léa": Role.ACCOUNTANT}
    table = screen.findChild(object, "operatorTable").model()
    assert [table.index(r, 1).data() for r in range(2)] == ["Gérant", "Comptable"]


def test_short_pin_is_refused_next_to_the_form(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, SettingsScreen(ctx))
    type_text(qtbot, screen.findChild(object, "operatorNameEdit"), "Léa")
    type_text(qtbot, screen.findChild(object, "pinEdit"), "12")
    type_text(qtbot, screen.findChild(object, "pinConfirmEdit"), "12")
    qtbot.mouseClick(screen.findChild(object, "addOperatorButton"), LEFT)
    assert "4 à 8 chiffres" in screen.findChild(object, "operatorError").text()
    with ledger.reader() as session:
        assert len(list_operators(session)) == 1


def test_receipt_texts_and_printer_are_kept(qtbot, ledger, ctx) -> None:
    screen = shown(qtbot, SettingsScreen(ctx))
    type_text(qtbot, screen.findChild(object, "receiptHeaderEdit"), "Ouvert 7j/7")
    type_text(qtbot, screen.findChild(object, "receiptFooterEdit"), "Merci, à bientôt !")
    qtbot.mouseClick(screen.findChild(object, "saveReceiptButton"), LEFT)
    with ledger.reader() as session:
        assert receipt_texts(session) == ("Ouvert 7j/7", "Merci, à bientôt !")

    type_into(qtbot, screen.findChild(object, "receiptFooterEdit"), "x" * 49)
    qtbot.mouseClick(screen.findChild(object, "saveReceiptButton"), LEFT)
    assert "48 caractères" in screen.findChild(object, "receiptError").text()

    kind = screen.findChild(object, "printerKindCombo")
    kind.setCurrentIndex(kind.findData("usb"))
    type_text(qtbot, screen.findChild(object, "usbVendorEdit"), "zz")
    qtbot.mouseClick(screen.findChild(object, "testPrintButton"), LEFT)
    assert "hexadécimal" in screen.findChild(object, "printerError").text()

    type_into(qtbot, screen.findChild(object, "usbVendorEdit"), "04b8")
    type_text(qtbot, screen.findChild(object, "usbProductEdit"), "0x0202")
    with qtbot.waitSignal(screen.test_print_requested) as asked:
        qtbot.mouseClick(screen.findChild(object, "testPrintButton"), LEFT)
    assert asked.args[0] == {"kind": "usb", "vendor_id": 0x04B8, "product_id": 0x0202}

    kind.setCurrentIndex(kind.findData("network"))
    type_text(qtbot, screen.findChild(object, "printerHostEdit"), "192.168.1.50")
    qtbot.mouseClick(screen.findChild(object, "savePrinterButton"), LEFT)
    with ledger.reader() as session:
        assert printer_config(session) == {"kind": "network", "host": "192.168.1.50", "port": 9100}
    assert screen.findChild(object, "printerStatus").text() == "Imprimante enregistrée."

    again = shown(qtbot, SettingsScreen(ctx))
    assert again.findChild(object, "printerKindCombo").currentData() == "network"
    assert again.findChild(object, "printerHostEdit").text() == "192.168.1.50"
    assert again.findChild(object, "receiptHeaderEdit").toPlainText() == "Ouvert 7j/7"


def test_cashier_sees_settings_read_only(qtbot, ledger) -> None:
    screen = shown(qtbot, SettingsScreen(make_context(ledger, Role.CASHIER, "Yanis")))
    assert screen.findChild(object, "settingsReadOnly").isVisible()
    for name in ("saveFiscalButton", "addOperatorButton", "saveReceiptButton", "savePrinterButton"):
        assert not screen.findChild(object, name).isEnabled()


def test_operator_model(qtmodeltester, ledger) -> None:
    with ledger.transaction() as session:
        add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
        operators = list_operators(session)
    model = OperatorTableModel()
    model.set_rows(operators)
    qtmodeltester.check(model)
    assert model.index(1, 1).data() == "Caissier"
