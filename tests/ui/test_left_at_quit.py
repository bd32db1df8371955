"""Quitting with a ticket in progress parks it; the next start offers it back."""

from __future__ import annotations

from app.sales.parking import parked_tickets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.till.left_at_quit import offer_left_cart
from tests.ui.dialogs import answer_confirmation
from tests.ui.test_till import WINE, _scan


def _reopen(qtbot, shop) -> MainWindow:
    window = MainWindow(AppContext(shop["ledger"], shop["cashier"]))
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    return window


def _parked(shop):
    with shop["ledger"].reader() as session:
        return parked_tickets(session)


def test_a_cart_left_at_quit_comes_back_at_the_next_start(qtbot, window, shop) -> None:
    _scan(qtbot, window.till, WINE)
    _scan(qtbot, window.till, WINE)
    window.close()
    [parked] = _parked(shop)
    assert parked.left_at_quit and parked.label.endswith("1 article, 23,00 €")
    assert parked.operator == "Camille"

    again = _reopen(qtbot, shop)
    offer_left_cart(again.till)
    said = answer_confirmation(qtbot)
    assert "Un ticket était en cours à la fermeture (1 article, 23,00 €, par Camille)" in said
    assert again.till.model.rowCount() == 1
    assert again.till.model.index(0, 1).data() == "2"
    assert _parked(shop) == []


def test_later_leaves_it_parked_and_an_empty_till_parks_nothing(qtbot, window, shop) -> None:
    window.close()
    assert _parked(shop) == []  # nothing on screen: nothing parked
    again = _reopen(qtbot, shop)
    _scan(qtbot, again.till, WINE)
    again.close()
    third = _reopen(qtbot, shop)
    offer_left_cart(third.till)
    answer_confirmation(qtbot, yes=False)
    assert third.till.model.rowCount() == 0
    [parked] = _parked(shop)
    third.till.resume_parked(parked.id)  # still there for « Reprendre »
    assert third.till.model.rowCount() == 1
