"""The customer display: a second window for a screen facing the customer, and a pole
display, both fed the same ``CustomerView`` as the till's cart changes."""

from __future__ import annotations

import importlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from types import ModuleType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.documents.display_settings import display_config
from app.ledger.settings import fiscal_settings
from app.ledger.training import TRAINING, TRAINING_NOTICE
from app.sales.display import (
    IDLE,
    PAID,
    SALE,
    CustomerView,
    ShownLine,
    idle_view,
    paid_view,
    pole_lines,
    sale_view,
)
from app.ui.context import AppContext
from app.values.money import format_cents

if TYPE_CHECKING:
    from app.documents.pole_display import PoleDisplay
    from app.ui.till.till_screen import TillScreen

log = logging.getLogger(__name__)


def pole_display() -> ModuleType:
    """The pole display's device code, imported when one is set: python-escpos costs time
    at start-up that a till without a pole display does not need to spend."""
    return importlib.import_module("app.documents.pole_display")


TRAINING_BACKGROUND = "#ffe3bd"


class CustomerDisplayWindow(QWidget):
    def __init__(self, training: bool = False) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowTitle("Comptoir — écran client")
        self.setObjectName("customerDisplay")
        background = TRAINING_BACKGROUND if training else "#ffffff"
        self.setStyleSheet(f"QWidget#customerDisplay {{ background: {background}; }}")
        self.watermark = QLabel(TRAINING_NOTICE)
        self.watermark.setObjectName("displayWatermark")
        self.watermark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.watermark.setStyleSheet(
            "font-size: 26px; font-weight: bold; color: #b35c00; background: #ffc98a; padding: 6px;"
        )
        self.watermark.setVisible(training)
        self.shop = QLabel()
        self.shop.setObjectName("displayShop")
        self.shop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shop.setStyleSheet("font-size: 24px; color: #555;")
        self.thanks = QLabel("Merci")
        self.thanks.setObjectName("displayThanks")
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thanks.setStyleSheet("font-size: 96px; font-weight: bold; color: #0a7d32;")
        self.lines = QTableWidget(0, 2)
        self.lines.setObjectName("displayLines")
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lines.setShowGrid(False)
        self.lines.horizontalHeader().hide()
        self.lines.verticalHeader().hide()
        self.lines.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lines.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.lines.verticalHeader().setDefaultSectionSize(44)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setStyleSheet("font-size: 26px; border: none; background: transparent;")
        self.total = QLabel()
        self.total.setObjectName("displayTotal")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.total.setStyleSheet("font-size: 56px; font-weight: bold;")
        self.change = QLabel()
        self.change.setObjectName("displayChange")
        self.change.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.change.setStyleSheet("font-size: 40px; font-weight: bold; color: #0a7d32;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.watermark)
        layout.addWidget(self.shop)
        layout.addWidget(self.thanks, 1)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.total)
        layout.addWidget(self.change)
        self.view: CustomerView | None = None

    def show_view(self, view: CustomerView) -> None:
        self.view = view
        self.shop.setText(view.shop_name)
        idle = view.state == IDLE
        # Between sales the shop's name is what the customer reads from across the counter.
        self.shop.setStyleSheet(
            "font-size: 44px; font-weight: bold; color: #333;"
            if idle
            else "font-size: 24px; color: #555;"
        )
        self.thanks.setVisible(idle or view.state == PAID)
        self.lines.setVisible(not idle and view.state != PAID)
        self.lines.setRowCount(len(view.lines))
        for row, line in enumerate(view.lines):
            quantity = "" if line.quantity == "1" else f"{line.quantity} × "
            amount = QTableWidgetItem(format_cents(line.amount_cents) if line.amount_cents else "")
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.lines.setItem(row, 0, QTableWidgetItem(f"{quantity}{line.label}"))
            self.lines.setItem(row, 1, amount)
        if view.lines:
            self.lines.scrollToBottom()
        self.total.setVisible(not idle)
        self.total.setText(f"Total : {format_cents(view.total_cents)}")
        self.change.setVisible(view.state == PAID and view.change_cents > 0)
        self.change.setText(f"Rendu monnaie : {format_cents(view.change_cents)}")

    def shown_lines(self) -> list[str]:
        """The lines as shown, "label<TAB>amount" (for the tests and the log)."""
        return [
            f"{self.lines.item(row, 0).text()}\t{self.lines.item(row, 1).text()}"
            for row in range(self.lines.rowCount())
        ]

    def show_test(self, top: str, bottom: str) -> None:
        """What the test button of Réglages shows: the shop's name, two lines of text."""
        self.show_view(
            CustomerView(SALE, self.view.shop_name if self.view else "", (
                ShownLine(top, "1", 0), ShownLine(bottom, "1", 0)
            ))
        )  # fmt: skip

    def place(self) -> None:
        """Full screen on the second screen when there is one, a window otherwise."""
        screens = QGuiApplication.screens()
        if len(screens) > 1:
            self.setGeometry(screens[1].geometry())
            self.showFullScreen()
        else:
            self.resize(800, 600)
            self.show()


class CustomerDisplays(QObject):
    """Keeps the customer's window and pole display in step with the till."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.training = ctx.ledger.kind == TRAINING
        self.window: CustomerDisplayWindow | None = None
        self.pole: PoleDisplay | None = None
        self.shop_name = ""
        self.view: CustomerView | None = None
        self._config: dict[str, Any] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="comptoir-pole")
        self._sent: Future[None] | None = None

    def follow(self, till: TillScreen) -> None:
        till.model.totals_changed.connect(lambda _totals: self.show_cart(till))
        till.model.modelReset.connect(lambda: self.show_cart(till))
        till.sale_recorded.connect(
            lambda recorded: self.show(
                paid_view(
                    recorded.body["total"],
                    recorded.body["change"],
                    self.shop_name,
                    training=self.training,
                )
            )
        )
        self.ctx.ledger_changed.connect(self.configure)

    def configure(self) -> None:
        """Open or close the window and the pole display as Réglages say."""
        config, name = self.ctx.read(lambda s: (display_config(s), fiscal_settings(s).name))
        self.shop_name = name
        if config == self._config:
            return
        self._config = config
        if config["window"] and self.window is None:
            self.window = CustomerDisplayWindow(self.training)
            self.window.place()
        elif not config["window"] and self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None
        if self.pole is not None:
            self.pole.close()
            self.pole = None
        if config["pole"]["kind"] != "none":
            try:
                self.pole = pole_display().PoleDisplay.from_config(config["pole"])
            except Exception as error:  # a display unplugged must not stop the till
                log.warning("pole display unusable: %r", error)
        self.show(self.view or idle_view(self.shop_name, training=self.training))

    def show_cart(self, till: TillScreen) -> None:
        self.show(sale_view(till.model.cart, self.shop_name, training=self.training))

    def show(self, view: CustomerView) -> None:
        self.view = view
        if self.window is not None:
            self.window.show_view(view)
        if self.pole is not None:
            pole, (top, bottom) = self.pole, pole_lines(view)
            self._sent = self._pool.submit(_send, pole, top, bottom)

    def flush(self) -> None:
        """Wait for the last lines sent to the pole display (tests, shutdown)."""
        if self._sent is not None:
            self._sent.result(timeout=10)

    def shutdown(self) -> None:
        if self.window is not None:
            self.window.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _send(pole: PoleDisplay, top: str, bottom: str) -> None:
    try:
        pole.show(top, bottom)
    except Exception as error:  # shown in the log: the sale goes on
        log.warning("pole display: %r", error)
