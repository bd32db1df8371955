"""The viewer's filters: the bar above the table, the period tree and the quick type
filters on the left. Together they make one ``RecordFilter``; every change is announced
once the typing pauses, so a search over a large ledger does not start at each key."""

from __future__ import annotations

import calendar
from datetime import date

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.errors import InvalidInput
from app.ledger.export.browse import TYPE_GROUPS, RecordFilter, YearPeriods
from app.ledger.periods import MONTHS_FR
from app.ledger.records import RecordType
from app.values.money import parse_cents

PAUSE_MS = 350
ALL_TYPES = "Tous les types"
ALL_OPERATORS = "Tous les opérateurs"
PERIOD_ROLE = Qt.ItemDataRole.UserRole


class FilterBar(QWidget):
    """Du/au, type, opérateur, montants, client, texte; ``changed`` after a pause."""

    changed = Signal()

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        """``today``: the shop's day, from which the dates start (this month so far)."""
        super().__init__(parent)
        self._timer = QTimer(self, singleShot=True, interval=PAUSE_MS, timeout=self.changed.emit)
        self.period = QCheckBox("Du")
        self.period.setObjectName("periodFilter")
        self.date_from, self.date_to = QDateEdit(), QDateEdit()
        self.date_from.setObjectName("dateFrom")
        self.date_to.setObjectName("dateTo")
        today = QDate(today.year, today.month, today.day)
        self.date_from.setDate(QDate(today.year(), today.month(), 1))
        self.date_to.setDate(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.dateChanged.connect(self._period_edited)
        self.period.toggled.connect(self._later)
        self.period.toggled.connect(self._enable_dates)
        self._enable_dates(False)
        self.type = QComboBox()
        self.type.setObjectName("typeFilter")
        self.type.addItem(ALL_TYPES, None)
        for label, types in TYPE_GROUPS.items():
            self.type.addItem(label, types)
        for rtype in RecordType:
            self.type.addItem(f"  {rtype.label}", frozenset({rtype}))
        self.type.currentIndexChanged.connect(self._later)
        self.type.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.type.setMinimumContentsLength(14)
        self.operator = QComboBox()
        self.operator.setObjectName("operatorFilter")
        self.operator.setEditable(True)
        self.operator.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.operator.addItem(ALL_OPERATORS)
        self.operator.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.operator.setMinimumContentsLength(12)
        self.operator.currentTextChanged.connect(self._later)
        self.min_amount = self._line("minAmount", "Min. TTC")
        self.max_amount = self._line("maxAmount", "Max. TTC")
        self.customer = self._line("customerFilter", "Client (nom ou SIREN)")
        self.text = self._line("textSearch", "Rechercher (texte, n° de document, empreinte)…")
        self.clear_button = QPushButton("Effacer")
        self.clear_button.setToolTip("Effacer tous les filtres")
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.clicked.connect(self.clear)
        self.error = QLabel()
        self.error.setObjectName("filterError")
        self.error.setProperty("role", "error")
        self.error.setVisible(False)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.period, 0, 0)
        grid.addWidget(self.date_from, 0, 1)
        grid.addWidget(QLabel("au"), 0, 2)
        grid.addWidget(self.date_to, 0, 3)
        grid.addWidget(self.type, 0, 4, 1, 2)
        grid.addWidget(self.operator, 0, 6, 1, 2)
        grid.addWidget(self.customer, 1, 0, 1, 4)
        grid.addWidget(self.text, 1, 4)
        grid.addWidget(self.min_amount, 1, 5)
        grid.addWidget(self.max_amount, 1, 6)
        grid.addWidget(self.clear_button, 1, 7)
        grid.addWidget(self.error, 2, 0, 1, 8)
        grid.setColumnStretch(4, 3)
        for column in (5, 6, 7):
            grid.setColumnStretch(column, 1)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.textChanged.connect(self._later)
        return edit

    def _later(self) -> None:
        self._timer.start()

    def _enable_dates(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)

    def _period_edited(self) -> None:
        if self.period.isChecked():
            self._later()

    def flush(self) -> None:
        """Announce a pending change now (tests, the Enter key)."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    # -- setting ------------------------------------------------------------------------
    def set_period(self, first: date | None, last: date | None) -> None:
        """Show one period (from the tree), or every date when ``first`` is None."""
        blocked = [w.blockSignals(True) for w in (self.period, self.date_from, self.date_to)]
        try:
            self.period.setChecked(first is not None)
            if first is not None and last is not None:
                self.date_from.setDate(QDate(first.year, first.month, first.day))
                self.date_to.setDate(QDate(last.year, last.month, last.day))
        finally:
            self._enable_dates(first is not None)
            for widget, was in zip(
                (self.period, self.date_from, self.date_to), blocked, strict=True
            ):
                widget.blockSignals(was)
        self._later()

    def set_type_group(self, label: str | None) -> None:
        at = self.type.findText(label) if label else 0
        self.type.setCurrentIndex(max(0, at))

    def set_operators(self, names: list[str]) -> None:
        current = self.operator.currentText()
        self.operator.blockSignals(True)
        self.operator.clear()
        self.operator.addItem(ALL_OPERATORS)
        self.operator.addItems(names)
        self.operator.setCurrentText(current)
        self.operator.blockSignals(False)

    def clear(self) -> None:
        for edit in (self.min_amount, self.max_amount, self.customer, self.text):
            edit.blockSignals(True)
            edit.clear()
            edit.blockSignals(False)
        self.operator.setCurrentText(ALL_OPERATORS)
        self.type.setCurrentIndex(0)
        self.set_period(None, None)

    # -- reading ------------------------------------------------------------------------
    def current(self) -> RecordFilter | None:
        """The filter the bar shows, or None (and a message) when an amount is not one."""
        try:
            low = self._cents(self.min_amount, "Montant min.")
            high = self._cents(self.max_amount, "Montant max.")
        except InvalidInput as exc:
            self.error.setText(exc.message)
            self.error.setVisible(True)
            return None
        self.error.setVisible(False)
        operator = self.operator.currentText().strip()
        dated = self.period.isChecked()
        return RecordFilter(
            date_from=self.date_from.date().toPython() if dated else None,
            date_to=self.date_to.date().toPython() if dated else None,
            types=self.type.currentData() or frozenset(),
            operator="" if operator == ALL_OPERATORS else operator,
            min_cents=low,
            max_cents=high,
            customer=self.customer.text().strip(),
            text=self.text.text().strip(),
        )

    @staticmethod
    def _cents(edit: QLineEdit, what: str) -> int | None:
        text = edit.text().strip()
        return parse_cents(text, what) if text else None


class PeriodTree(QTreeWidget):
    """Years, then months, that hold records; a click selects the period's dates."""

    period_chosen = Signal(object, object)  # first day, last day (None, None: everything)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("periodTree")
        self.setHeaderLabel("Périodes")
        self.itemClicked.connect(self._clicked)

    def set_periods(self, years: list[YearPeriods]) -> None:
        self.clear()
        everything = QTreeWidgetItem(self, ["Tout le journal"])
        everything.setData(0, PERIOD_ROLE, None)
        for entry in reversed(years):
            year = QTreeWidgetItem(self, [str(entry.year)])
            year.setData(0, PERIOD_ROLE, (date(entry.year, 1, 1), date(entry.year, 12, 31)))
            for month in entry.months:
                last = calendar.monthrange(entry.year, month)[1]
                item = QTreeWidgetItem(year, [MONTHS_FR[month].capitalize()])
                item.setData(
                    0,
                    PERIOD_ROLE,
                    (date(entry.year, month, 1), date(entry.year, month, last)),
                )
        if years:
            self.topLevelItem(1).setExpanded(True)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        bounds = item.data(0, PERIOD_ROLE)
        if bounds is None:
            self.period_chosen.emit(None, None)
        else:
            self.period_chosen.emit(bounds[0], bounds[1])


class QuickTypes(QListWidget):
    """One click to see only the closures, the tickets, the invoices…"""

    group_chosen = Signal(object)  # a TYPE_GROUPS label, or None for every type

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickTypes")
        for label in ("Tous les enregistrements", *list(TYPE_GROUPS)[:5]):
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, None if label.startswith("Tous") else label)
            self.addItem(item)
        self.itemClicked.connect(
            lambda item: self.group_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        )
