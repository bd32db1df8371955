"""The customer display: the second window and the 2×20 pole display follow the till."""

from __future__ import annotations

from escpos.printer import Dummy

from app.documents.display_settings import save_display_config
from app.documents.pole_display import PoleDisplay, pole_bytes
from app.sales.display import idle_view, pole_lines
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from tests.ui.test_till import BAGUETTE, WINE, _pay, _scan


def test_the_second_window_follows_the_sale(qtbot, shop) -> None:
    with shop["ledger"].transaction() as session:
        save_display_config(session, {"window": True}, operator="Camille")
    window = MainWindow(AppContext(shop["ledger"], shop["manager"]))
    qtbot.addWidget(window)
    window.show()
    shown = window.customer_display.window
    assert shown is not None and shown.isVisible()
    qtbot.addWidget(shown)
    assert shown.thanks.isVisible() and shown.thanks.text() == "Merci"
    assert shown.shop.text() == "Épicerie du Comptoir"
    assert not shown.watermark.isVisible()

    till = window.till
    _scan(qtbot, till, BAGUETTE)
    _scan(qtbot, till, WINE)
    assert shown.shown_lines() == [
        "Baguette tradition\t1,30 €",
        "Vin rouge AOP 75 cl\t11,50 €",
    ]
    assert shown.total.text() == "Total : 12,80 €"
    assert not shown.thanks.isVisible()

    def cash_20(dialog) -> None:
        dialog.add_cash(2000)

    _pay(qtbot, till, [cash_20])
    assert shown.change.isVisible() and shown.change.text() == "Rendu monnaie : 7,20 €"
    assert shown.thanks.isVisible()
    window.close()
    assert not shown.isVisible()


def test_a_pole_display_shows_each_line(qtbot, shop, monkeypatch) -> None:
    device = Dummy()
    monkeypatch.setattr(PoleDisplay, "from_config", classmethod(lambda cls, c: cls(device)))
    with shop["ledger"].transaction() as session:
        save_display_config(
            session,
            {"pole": {"kind": "usb", "vendor_id": 0x0416, "product_id": 0xF012}},
            operator="Camille",
        )
    window = MainWindow(AppContext(shop["ledger"], shop["manager"]))
    qtbot.addWidget(window)
    assert window.customer_display.window is None
    _scan(qtbot, window.till, WINE)
    window.customer_display.flush()
    top, bottom = pole_lines(window.customer_display.view)
    assert device.output.endswith(pole_bytes(top, bottom))
    assert bottom == "TOTAL        11,50 €"


def test_in_training_the_customer_sees_the_watermark(qtbot) -> None:
    from app.ui.till.customer_display import CustomerDisplayWindow

    shown = CustomerDisplayWindow(training=True)
    qtbot.addWidget(shown)
    shown.show()
    shown.show_view(idle_view("Épicerie", training=True))
    assert shown.watermark.isVisible()
    assert shown.watermark.text() == "FORMATION — sans valeur fiscale"
