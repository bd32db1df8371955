"""A main window over a real ledger with the demo shop and catalog."""

from __future__ import annotations

import pytest

from app.catalog.service import load_demo_catalog
from app.demo import DEMO_SHOP
from app.ledger.operators import Role
from app.ledger.settings import record_fiscal_settings
from app.staff.service import add_operator
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.theme import apply_theme


@pytest.fixture(autouse=True)
def _themed(request):
    """Widgets under test look as in the application: the theme sets sizes that layouts
    and geometry checks depend on."""
    if {"qtbot", "qapp"} & set(request.fixturenames):
        apply_theme(request.getfixturevalue("qapp"))


@pytest.fixture
def shop(ledger):
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        manager = add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        cashier = add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
        load_demo_catalog(session, operator="Camille")
    return {"ledger": ledger, "manager": manager, "cashier": cashier}


@pytest.fixture
def window(qtbot, shop):
    win = MainWindow(AppContext(shop["ledger"], shop["manager"]))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.till.refresh()
    return win
