"""The application's theme: touch sizes, the accent on the action that ends a sale, the
category colours of the till's tiles, and a till that fits a 1024×768 screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from app.ui.login import LoginDialog
from app.ui.theme import ACCENT, CATEGORY_COLOURS, INK, STYLESHEET, TOUCH, tint
from app.ui.till.tiles import category_tones, colour_of

DEMO_CATEGORIES = (
    "Boulangerie",
    "Crèmerie",
    "Fruits et légumes",
    "Épicerie",
    "Traiteur",
    "Boissons",
    "Droguerie",
    "Presse",
)


def _tile(till, name: str) -> QPushButton:
    [button] = [b for b in till.findChildren(QPushButton) if b.toolTip() == name and b.isVisible()]
    return button


def _category_button(till, name: str) -> QPushButton:
    [button] = [
        b
        for b in till.findChildren(QPushButton)
        if b.text() == name and b.objectName().startswith("category_") and b.isVisible()
    ]
    return button


def _pixel(widget: QWidget, x: int, y: int | None = None) -> str:
    y = widget.height() // 2 if y is None else y
    return widget.grab().toImage().pixelColor(x, y).name()


def _inside(widget: QWidget, window: QWidget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return widget.isVisible() and window.rect().contains(QRect(top_left, widget.size()))


def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 255 for c in QColor(colour).getRgb()[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_theme_is_set_on_the_application(window) -> None:
    app = QApplication.instance()
    assert app.styleSheet() == STYLESHEET and app.property("comptoirTheme")
    pay = window.till.buttons["pay"]
    assert pay.minimumHeight() >= TOUCH and pay.height() >= TOUCH
    assert pay.property("role") == "primary"
    assert _pixel(pay, 8) == ACCENT  # drawn in the accent colour
    plain = window.till.buttons["plus"]
    assert plain.height() >= TOUCH and _pixel(plain, 8) != ACCENT
    assert window.till.buttons["deleteLine"].property("role") == "danger"


def test_every_button_is_touch_sized_and_larger_keys_stay_larger(qtbot, shop) -> None:
    bare = QPushButton("OK")
    qtbot.addWidget(bare)
    bare.ensurePolished()
    assert bare.minimumHeight() >= TOUCH
    login = LoginDialog(shop["ledger"])
    qtbot.addWidget(login)
    login.show()
    key = login.pad.buttons["7"]
    assert key.minimumHeight() >= 64 and key.height() >= 64  # the PIN pad's own size
    assert login.findChild(QPushButton, "loginOk").property("role") == "primary"


def test_a_category_has_one_colour_on_its_tiles_and_its_button(window) -> None:
    till = window.till
    baguette, croissant = _tile(till, "Baguette tradition"), _tile(till, "Croissant au beurre")
    bananas = _tile(till, "Bananes bio")  # Boulangerie, Boulangerie, Fruits et légumes
    assert colour_of(baguette) == colour_of(croissant) is not None
    assert colour_of(bananas) not in (None, colour_of(baguette))
    assert colour_of(_category_button(till, "Boulangerie")) == colour_of(baguette)
    assert colour_of(_category_button(till, "Tout")) is None
    # Seen on screen: the band on the tile's left edge is the category's colour.
    assert _pixel(baguette, 2) == _pixel(croissant, 2) == colour_of(baguette)
    assert _pixel(bananas, 2) == colour_of(bananas)


def test_the_chosen_category_button_is_filled_with_its_colour(qtbot, window) -> None:
    till = window.till
    button = _category_button(till, "Boissons")
    button.click()
    assert button.isChecked() and not _category_button(till, "Tout").isChecked()
    assert _pixel(button, button.width() // 2, 5) == colour_of(button)  # above its text


def test_category_colours_are_stable_and_all_differ() -> None:
    tones = category_tones(DEMO_CATEGORIES)
    assert len(set(tones.values())) == len(DEMO_CATEGORIES)
    assert category_tones(DEMO_CATEGORIES) == tones  # the same at every start
    grown = category_tones([*DEMO_CATEGORIES, "Fromagerie", "Cave"])
    assert {name: grown[name] for name in DEMO_CATEGORIES} == tones  # a new one moves none
    assert category_tones(["Boissons"])["Boissons"] == tones["Boissons"]


@pytest.mark.parametrize("colour", CATEGORY_COLOURS)
def test_category_colours_keep_text_readable(colour: str) -> None:
    assert _contrast(colour, "#ffffff") >= 4.5  # white on a chosen category
    assert _contrast(tint(colour), INK) >= 7  # black on a tile
    assert _contrast(ACCENT, "#ffffff") >= 4.5


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_the_total_and_payer_fit_the_screen(qtbot, window, size) -> None:
    till = window.till
    for code in ("3760123450010", "3760123450263", "3760123450294"):
        till.barcode.setText(code)
        till.scan()
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    QApplication.processEvents()
    assert window.width() <= size[0] and window.height() <= size[1]
    for widget in (till.total_label, till.buttons["pay"], till.table, till.barcode):
        assert _inside(widget, window), widget.objectName()
    total = till.total_label
    assert total.text().startswith("Total : ") and total.font().pixelSize() >= 32
    shown = total.contentsRect().width()
    assert total.fontMetrics().horizontalAdvance(total.text()) <= shown


def test_the_change_due_shows_in_the_accent_until_the_next_sale(qtbot, window) -> None:
    till = window.till
    till.barcode.setText("3760123450010")  # Baguette tradition, 1,30 €
    till.scan()
    dialog = till.make_payment_dialog()
    qtbot.addWidget(dialog)
    dialog.add_cash(500)
    assert till.record(dialog.payments) is not None
    total = till.total_label
    assert total.text() == "À rendre : 3,70 €" and total.property("role") == "change"
    assert _pixel(total, 5) == ACCENT
    till.barcode.setText("3760123450010")
    till.scan()
    assert total.text().startswith("Total : ") and _pixel(total, 5) == "#ffffff"


def test_tiles_show_their_names_uncut(qtbot, window) -> None:
    till = window.till
    for size, cut in (((1024, 768), True), ((1920, 1080), False)):
        window.resize(*size)
        qtbot.waitUntil(lambda size=size: window.size().toTuple() == size)
        QApplication.processEvents()
        tiles = [b for b in till.findChildren(QPushButton) if b.objectName().startswith("product_")]
        shown = [b for b in tiles if b.isVisible()]
        assert shown and all(b.width() >= b.minimumSizeHint().width() for b in shown)
        # A large screen has room for whole names; a small one shortens the longest.
        assert ("…" in _tile(till, "Pain de campagne 500 g").text()) is cut
