"""Comptoir's look, set once on the application: a calm palette with strong contrast,
touch-sized controls, one accent colour for the action that ends a task (Payer, Valider,
Émettre), a distinct colour for the ones that throw something away, and the colours of
the till's product categories.

Widgets say what they are, never how they look: an object name (``total``, ``cartTable``)
or a ``role`` property (``primary``, ``danger``, ``error``, ``status``, ``notice``,
``change``) that the stylesheet below dresses. The training banner and background keep
their own colours (app/ui/training.py) so that a training window never looks like this.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QProxyStyle,
    QPushButton,
    QWidget,
)

TOUCH = 48  # px: the smallest target a finger hits reliably
FIELD = 40  # px: a text field, a list to open, a number to step
FONT_PX = 14

INK = "#17202b"  # text: near black on white, contrast above 15:1
MUTED = "#5a6573"  # placeholders and hints, still above 5:1 on white
WINDOW = "#eef1f5"
BASE = "#ffffff"
ALTERNATE = "#f1f4f8"
LINE = "#c3ccd6"
HEADER = "#e2e7ee"
SELECTION = "#1d4ed8"  # the selected cart line: white on strong blue, seen from afar
ACCENT = "#1e7a46"  # Payer, Valider, Émettre: white text at 5.4:1
ACCENT_DARK = "#145c33"
DANGER = "#b3261e"  # Supprimer, Annuler tout le ticket
ERROR = "#b3261e"
STATUS = "#1e6b3e"
NOTICE_INK, NOTICE_BACK, NOTICE_EDGE = "#5c4300", "#fff4cc", "#e3c45a"

# Product categories, in an order where neighbours differ: all dark enough to carry white
# text (a chosen category button) and light enough once tinted to carry black text (tiles).
CATEGORY_COLOURS = (
    "#6d4c9f",  # lavender
    "#8e24aa",  # purple
    "#00747f",  # teal
    "#c2185b",  # raspberry
    "#00695c",  # pine
    "#5d4037",  # brown
    "#ad5a00",  # crust (the demo's bakery)
    "#3949ab",  # indigo
    "#4a7a28",  # leaf green (the demo's fruit and vegetables)
    "#1565c0",  # blue (the demo's dairy)
    "#827717",  # mustard
    "#455a64",  # slate
)
NEUTRAL_TONE = "all"  # « Tout », and products without a category


def tint(colour: str, share: float = 0.16) -> str:
    """``colour`` mixed into white: a tile's background, with black text above 12:1."""
    base = QColor(colour)
    mix = [round(255 - (255 - c) * share) for c in (base.red(), base.green(), base.blue())]
    return QColor(*mix).name()


def _tone_rules() -> str:
    rules = [
        "QPushButton[tone] { font-size: 13px; padding: 2px 3px; }",
        f'QPushButton[tone="{NEUTRAL_TONE}"] {{ background: {BASE}; '
        f"border-left: 7px solid {LINE}; }}",
        f'QPushButton[tone="{NEUTRAL_TONE}"]:checked {{ background: {INK}; color: white; }}',
    ]
    for i, colour in enumerate(CATEGORY_COLOURS):
        rules.append(
            f'QPushButton[tone="{i}"] {{ background: {tint(colour)}; '
            f"border-left: 7px solid {colour}; }}\n"
            f'QPushButton[tone="{i}"]:pressed, QPushButton[tone="{i}"]:checked '
            f"{{ background: {colour}; color: white; }}"
        )
    return "\n".join(rules)


STYLESHEET = f"""
QPushButton {{
    padding: 0 8px; color: {INK}; background: {BASE};
    border: 1px solid {LINE}; border-bottom: 2px solid #9aa6b3; border-radius: 6px;
}}
QPushButton:hover {{ background: #f5f8fb; }}
QPushButton:pressed, QPushButton:checked {{ background: #dbe3ec; }}
QPushButton:disabled {{ color: #8a94a0; background: #eceff3; border-color: #d5dbe2; }}
QPushButton[role="primary"] {{
    background: {ACCENT}; color: white; font-weight: bold; font-size: 18px;
    border: 1px solid {ACCENT_DARK}; border-bottom: 3px solid {ACCENT_DARK};
}}
QPushButton[role="primary"]:hover {{ background: #228a4f; }}
QPushButton[role="primary"]:pressed {{ background: {ACCENT_DARK}; }}
QPushButton[role="primary"]:disabled {{ background: #9fbfac; border-color: #8fae9b; }}
QPushButton[role="danger"] {{
    color: {DANGER}; font-weight: bold; border: 1px solid #d98a85;
    border-bottom: 2px solid {DANGER};
}}
QPushButton[role="danger"]:pressed {{ background: {DANGER}; color: white; }}
QWidget[role="keypad"] QPushButton {{ font-size: 20px; font-weight: bold; }}
{_tone_rules()}

QLineEdit, QPlainTextEdit, QTextEdit {{
    color: {INK}; background: {BASE}; border: 1px solid #9aa6b3; border-radius: 5px;
    selection-background-color: {SELECTION}; selection-color: white;
}}
QLineEdit {{ padding: 0 8px; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 2px solid {SELECTION}; }}
QCheckBox, QRadioButton {{ min-height: 36px; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: 24px; height: 24px; }}
QTabBar::tab {{ min-height: 40px; padding: 0 18px; }}
QGroupBox {{ font-size: 16px; font-weight: bold; }}

QTableView, QListView, QTreeView {{
    background: {BASE}; alternate-background-color: {ALTERNATE}; gridline-color: #dfe4ea;
    border: 1px solid {LINE}; selection-background-color: {SELECTION};
    selection-color: white;
}}
QTableView {{ qproperty-alternatingRowColors: 1; }}
QHeaderView::section {{
    background: {HEADER}; color: {INK}; font-weight: bold; padding: 4px 5px;
    border: none; border-right: 1px solid {LINE}; border-bottom: 2px solid #9aa6b3;
}}
QListWidget#navigation {{ font-size: 17px; }}
QListWidget#navigation::item {{ min-height: {TOUCH}px; padding-left: 8px; }}

QLabel[role="error"] {{ color: {ERROR}; font-weight: bold; }}
QLabel[role="status"] {{ color: {STATUS}; font-weight: bold; }}
QLabel[role="notice"] {{
    color: {NOTICE_INK}; background: {NOTICE_BACK}; border: 1px solid {NOTICE_EDGE};
    border-radius: 6px; padding: 8px;
}}
QLabel#screenTitle {{ font-size: 24px; font-weight: bold; }}

QLabel#closedNotice {{
    color: #8e1b1b; background: #fdecea; border: 2px solid #e57373; border-radius: 6px;
    padding: 8px; font-size: 16px; font-weight: bold;
}}
QLabel#closedNotice[role="note"] {{
    color: #0d3c61; background: #e3f2fd; border-color: #64b5f6;
}}
QLineEdit#barcode {{ font-size: 18px; }}
QLabel#pendingQuantity {{ font-size: 18px; font-weight: bold; color: {SELECTION}; }}
QTableView#cartTable {{ font-size: 15px; }}
QTableView#cartTable QHeaderView::section {{ font-size: 13px; }}
QLabel#total, QLabel#paymentTotal {{
    font-size: 38px; font-weight: bold; color: {INK}; background: {BASE};
    border: 2px solid {LINE}; border-radius: 8px; padding: 2px 12px;
}}
QLabel#total[role="change"] {{ color: white; background: {ACCENT}; border-color: {ACCENT_DARK}; }}
QLabel#change {{ font-size: 26px; font-weight: bold; color: {ACCENT}; }}
QLabel#remaining {{ font-size: 20px; }}
QLabel#vatBreakdown {{ color: {MUTED}; }}
QWidget#cardPanel {{ background: {NOTICE_BACK}; border-radius: 6px; }}
QLabel#cardWaiting, QLabel#cardRefundWaiting {{ font-size: 22px; font-weight: bold; }}
QLabel#cardWaiting {{ padding: 8px; }}
QLabel#totals {{ font-size: 18px; font-weight: bold; }}
QDialog#login QLabel, QDialog#login QComboBox, QDialog#login QLineEdit {{ font-size: 17px; }}
QLineEdit#pin {{ font-size: 24px; letter-spacing: 6px; }}
"""


def palette() -> QPalette:
    colours = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: INK,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: ALTERNATE,
        QPalette.ColorRole.Text: INK,
        QPalette.ColorRole.Button: BASE,
        QPalette.ColorRole.ButtonText: INK,
        QPalette.ColorRole.ToolTipBase: "#fffbe6",
        QPalette.ColorRole.ToolTipText: INK,
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Highlight: SELECTION,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: SELECTION,
    }
    result = QPalette()
    for role, colour in colours.items():
        result.setColor(role, QColor(colour))  # active and inactive alike: the cart's
        # selected line stays obvious although the table never takes the focus
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a94a0"))
    return result


class TouchStyle(QProxyStyle):
    """Fusion (the same drawing everywhere, and one that honours a palette) with controls
    never smaller than a finger. Done here rather than with ``min-height`` in the
    stylesheet, which would also shrink the keys a screen made larger on purpose."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def polish(self, target):  # type: ignore[no-untyped-def,override]
        result = super().polish(target)
        if isinstance(target, QPushButton):
            target.setMinimumHeight(max(target.minimumHeight(), TOUCH))
        elif isinstance(target, QLineEdit | QComboBox | QAbstractSpinBox):
            target.setMinimumHeight(max(target.minimumHeight(), FIELD))
        return result


def apply_theme(app: QApplication) -> None:
    """Once per application (again is harmless): style, palette, font and stylesheet."""
    if app.property("comptoirTheme"):
        return
    app.setStyle(TouchStyle())
    app.setPalette(palette())
    font = QFont(app.font())
    font.setPixelSize(FONT_PX)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
    app.setProperty("comptoirTheme", True)


def set_role(widget: QWidget, role: str) -> None:
    """Give ``widget`` a look of the stylesheet (``""``: the plain one), at once."""
    if widget.property("role") == role:
        return
    widget.setProperty("role", role)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
