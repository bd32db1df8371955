"""Clôtures: close the day (Z) with the cash count, close a month or a year, and browse
and reprint the closures already made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.closures import (
    Closure,
    Pending,
    PeriodTotals,
    close_day,
    close_month,
    close_year,
    day_label,
    list_closures,
    month_label,
    pending_closures,
    x_report,
)
from app.ledger.closures import today as ledger_today
from app.ledger.journal import Recorded
from app.ledger.operators import Permission
from app.ledger.records import CLOSURE_TYPES, RecordType, document_number
from app.ledger.settings import FiscalSettings, fiscal_settings
from app.sales.payments import PaymentMethod
from app.ui.closures.closure_list import ClosureList
from app.ui.closures.wording import (
    closed_day_status,
    pending_sentence,
    signed_cents,
    tickets_sentence,
    z_summary,
)
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, Screen, error_label, show_form_error
from app.ui.widgets.confirm import ask_confirmation
from app.values.money import format_cents, parse_cents

MANAGER_ONLY = "Seul un gérant peut clôturer un mois ou un exercice."
NO_DAY_CLOSING = "Votre rôle ne permet pas de clôturer la journée."
RED, GREEN = "#c62828", "#2e7d32"
RECENT_MONTHS = 13
BANNER_STYLE = (
    "background: #fdecea; color: #8e1b1b; border: 2px solid #e57373; border-radius: 6px;"
    "padding: 10px; font-size: 17px; font-weight: bold;"
)


def _months_before(day: date, count: int) -> list[str]:
    year, month = day.year, day.month
    months = []
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(f"{year:04d}-{month:02d}")
    return months


@dataclass
class _CountRow:
    """The widgets of one payment method in the cash count."""

    label: str
    expected: QLabel
    counted: QLineEdit
    difference: QLabel
    error: QLabel


@dataclass(frozen=True)
class _Snapshot:
    today: date
    pending: list[Pending]
    report: PeriodTotals
    closures: list[Closure]
    shop: FiscalSettings


class ClosuresScreen(Screen):
    """Clôtures. ``reprint_requested(Closure)``: print this closure again;
    ``closure_recorded(Closure)``: a closure was just made (print its Z)."""

    reprint_requested = Signal(object)
    closure_recorded = Signal(object)
    x_report_requested = Signal()
    ereport_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._expected: dict[str, int] = {}
        self._report = PeriodTotals()
        self._closures: list[Closure] = []
        self.setObjectName("closuresScreen")
        self.setStyleSheet(TOUCH_STYLE)
        layout = QVBoxLayout(self)
        title = QLabel("Clôtures")
        title.setObjectName("screenTitle")
        self.banner = QLabel()
        self.banner.setObjectName("pendingBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.banner)
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self._day_panel())
        left.addWidget(self._period_panel())
        left.addStretch(1)
        body.addLayout(left, 5)
        self.closure_list = ClosureList(ctx.ledger.timezone)
        self.closure_list.reprint_requested.connect(self.reprint_requested)
        self.model, self.table = self.closure_list.model, self.closure_list.table
        body.addWidget(self.closure_list, 6)
        layout.addLayout(body, 1)

    # -- building ----------------------------------------------------------------------
    def _day_panel(self) -> QWidget:
        box = QGroupBox("Clôturer la journée")
        box.setObjectName("dayPanel")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.day_edit = QDateEdit()
        self.day_edit.setObjectName("dayEdit")
        self.day_edit.setDisplayFormat("dd/MM/yyyy")
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setMinimumWidth(180)
        self.day_edit.dateChanged.connect(self._day_chosen)
        row.addWidget(QLabel("Journée"))
        row.addWidget(self.day_edit)
        row.addStretch(1)
        layout.addLayout(row)
        self.day_summary = QLabel()
        self.day_summary.setObjectName("daySummary")
        self.day_summary.setWordWrap(True)
        layout.addWidget(self.day_summary)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        for column, text in enumerate(("Moyen de paiement", "Attendu", "Compté", "Écart")):
            header = QLabel(text)
            header.setStyleSheet("font-weight: bold;")
            align = Qt.AlignmentFlag.AlignLeft if column in (0, 2) else Qt.AlignmentFlag.AlignRight
            grid.addWidget(header, 0, column, align)
        self.count_rows: dict[str, _CountRow] = {}
        for i, method in enumerate(PaymentMethod):
            count = _CountRow(
                method.label,
                _amount_label(f"expected_{method.value}"),
                QLineEdit(),
                _amount_label(f"difference_{method.value}"),
                error_label(f"countedError_{method.value}"),
            )
            count.counted.setObjectName(f"counted_{method.value}")
            count.counted.setPlaceholderText("0,00")
            count.counted.setAlignment(Qt.AlignmentFlag.AlignRight)
            count.counted.setMaximumWidth(150)
            count.counted.textChanged.connect(lambda _text, m=method.value: self._show_diff(m))
            grid.addWidget(QLabel(method.label), 2 * i + 1, 0)
            grid.addWidget(count.expected, 2 * i + 1, 1)
            grid.addWidget(count.counted, 2 * i + 1, 2)
            grid.addWidget(count.difference, 2 * i + 1, 3)
            grid.addWidget(count.error, 2 * i + 2, 0, 1, 4)
            self.count_rows[method.value] = count
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        hint = QLabel("Saisissez ce que vous avez compté ; laissez vide ce qui n'est pas compté.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555; font-size: 13px;")
        layout.addWidget(hint)
        self.close_day_button = QPushButton("Clôturer (Z)")
        self.close_day_button.setObjectName("closeDayButton")
        self.close_day_button.setMinimumHeight(52)
        self.close_day_button.setStyleSheet("font-size: 17px; font-weight: bold;")
        self.close_day_button.clicked.connect(self.close_day)
        self.x_report_button = QPushButton("Rapport X")
        self.x_report_button.setToolTip("Les totaux en cours, sans clôture")
        self.x_report_button.setObjectName("xReportButton")
        self.x_report_button.clicked.connect(self.x_report_requested.emit)
        self.ereport_button = QPushButton("E-reporting…")
        self.ereport_button.setObjectName("ereportButton")
        self.ereport_button.setToolTip(
            "Périodes à déclarer (ventes aux particuliers et à l'étranger), transmises, rectifiées"
        )
        self.ereport_button.clicked.connect(self.ereport_requested.emit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.x_report_button)
        buttons.addWidget(self.ereport_button)
        layout.addLayout(buttons)
        layout.addWidget(self.close_day_button)
        self.day_status = QLabel()
        self.day_status.setObjectName("dayStatus")
        self.day_status.setWordWrap(True)
        layout.addWidget(self.day_status)
        return box

    def _period_panel(self) -> QWidget:
        box = QGroupBox("Clôtures mensuelle et annuelle")
        box.setObjectName("periodPanel")
        grid = QGridLayout(box)
        self.month_combo = QComboBox()
        self.month_combo.setObjectName("monthCombo")
        self.month_combo.currentIndexChanged.connect(self._update_period_buttons)
        self.close_month_button = QPushButton("Clôturer le mois")
        self.close_month_button.setObjectName("closeMonthButton")
        self.close_month_button.clicked.connect(self.close_month)
        self.year_spin = QSpinBox()
        self.year_spin.setObjectName("yearSpin")
        self.year_spin.setRange(2000, 2100)
        self.year_spin.valueChanged.connect(self._update_period_buttons)
        self.close_year_button = QPushButton("Clôturer l'exercice")
        self.close_year_button.setObjectName("closeYearButton")
        self.close_year_button.clicked.connect(self.close_year)
        grid.addWidget(QLabel("Mois"), 0, 0)
        grid.addWidget(self.month_combo, 0, 1)
        grid.addWidget(self.close_month_button, 0, 2)
        grid.addWidget(QLabel("Exercice"), 1, 0)
        grid.addWidget(self.year_spin, 1, 1)
        grid.addWidget(self.close_year_button, 1, 2)
        self.period_notice = QLabel(MANAGER_ONLY)
        self.period_notice.setObjectName("periodNotice")
        self.period_notice.setProperty("role", "notice")
        self.period_notice.setWordWrap(True)
        grid.addWidget(self.period_notice, 2, 0, 1, 3)
        self.period_status = QLabel()
        self.period_status.setObjectName("periodStatus")
        self.period_status.setWordWrap(True)
        grid.addWidget(self.period_status, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        return box

    # -- showing -----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # refreshes when stale
        if self.close_day_button.isEnabled():
            self.count_rows[PaymentMethod.CASH.value].counted.setFocus()

    def refresh(self) -> None:
        super().refresh()

        def load(session: Session) -> _Snapshot:
            now = ledger_today(session)
            closures = [c for kind in CLOSURE_TYPES for c in list_closures(session, kind)]
            return _Snapshot(
                now,
                pending_closures(session, now),
                x_report(session),
                sorted(closures, key=lambda c: c.seq, reverse=True),
                fiscal_settings(session),
            )

        snap = self.ctx.read(load)
        self._closures = snap.closures
        self.banner.setText("\n".join(pending_sentence(p) for p in snap.pending))
        self.banner.setVisible(bool(snap.pending))
        pending = {p.kind: p.period for p in snap.pending}
        self._show_day(snap, pending.get(RecordType.DAY_CLOSURE))
        self._show_periods(snap.today, pending)
        self.closure_list.show_closures(snap.closures, snap.shop)

    def _show_day(self, snap: _Snapshot, pending_day: str | None) -> None:
        day = date.fromisoformat(pending_day) if pending_day else snap.today
        self.day_edit.setMaximumDate(QDate(snap.today))
        self.day_edit.setDate(QDate(day))
        report = self._report = snap.report
        self._expected = {method: report.payment(method) for method in self.count_rows}
        for method, count in self.count_rows.items():
            count.expected.setText(format_cents(self._expected[method]))
            self._show_diff(method)
        self.day_summary.setText(
            f"Depuis la dernière clôture : {tickets_sentence(report)}"
            f" — total TTC {format_cents(report.total)}"
        )
        allowed = self.ctx.can(Permission.CLOSE_DAY)
        self.close_day_button.setToolTip("" if allowed else NO_DAY_CLOSING)
        self._day_chosen()

    def _show_periods(self, today: date, pending: dict[RecordType, str]) -> None:
        allowed = self.ctx.can(Permission.CLOSE_PERIOD)
        months = _months_before(today, RECENT_MONTHS)
        wanted = pending.get(RecordType.MONTH_CLOSURE, months[0])
        if wanted not in months:
            months.append(wanted)
        self.month_combo.blockSignals(True)
        self.month_combo.clear()
        for period in months:
            self.month_combo.addItem(f"{period} ({month_label(period)})", period)
        self.month_combo.setCurrentIndex(self.month_combo.findData(wanted))
        self.month_combo.blockSignals(False)
        self.year_spin.blockSignals(True)
        self.year_spin.setMaximum(today.year)
        self.year_spin.setValue(int(pending.get(RecordType.YEAR_CLOSURE, today.year - 1)))
        self.year_spin.blockSignals(False)
        self.period_notice.setVisible(not allowed)
        for widget in (self.close_month_button, self.close_year_button):
            widget.setToolTip("" if allowed else MANAGER_ONLY)
        self._update_period_buttons()

    def _closed(self, kind: RecordType, period: str) -> Closure | None:
        return next(
            (c for c in self._closures if c.record_type is kind and c.period == period), None
        )

    def _day_chosen(self) -> None:
        day = self.day_edit.date().toPython()
        done = self._closed(RecordType.DAY_CLOSURE, day.isoformat())  # its latest Z
        # Trading goes on after a Z: the last closed day closes again over what was sold
        # since (the report runs from the last Z).
        again = done is not None and done is self._last_day() and self._report.tickets > 0
        allowed = self.ctx.can(Permission.CLOSE_DAY)
        self.close_day_button.setEnabled(allowed and (done is None or again))
        if done is not None:
            self.day_status.setStyleSheet("")
            self.day_status.setText(closed_day_status(day, done, again=again))
        elif not allowed:
            self.day_status.setText(NO_DAY_CLOSING)
        elif self.day_status.text().startswith("La journée du "):
            self.day_status.clear()

    def _last_day(self) -> Closure | None:
        return next((c for c in self._closures if c.record_type is RecordType.DAY_CLOSURE), None)

    def _update_period_buttons(self) -> None:
        allowed = self.ctx.can(Permission.CLOSE_PERIOD)
        month = self.month_combo.currentData()
        year = str(self.year_spin.value())
        month_done = month is None or self._closed(RecordType.MONTH_CLOSURE, month)
        year_done = self._closed(RecordType.YEAR_CLOSURE, year)
        self.close_month_button.setEnabled(allowed and not month_done)
        self.close_year_button.setEnabled(allowed and not year_done)
        self.close_month_button.setText("Mois déjà clôturé" if month_done else "Clôturer le mois")
        self.close_year_button.setText(
            "Exercice déjà clôturé" if year_done else "Clôturer l'exercice"
        )

    # -- the cash count ----------------------------------------------------------------
    def _counted(self, method: str) -> int | None:
        """What was typed for ``method`` in cents, None if nothing; raises InvalidInput."""
        count = self.count_rows[method]
        text = count.counted.text().strip()
        if not text:
            return None
        cents = parse_cents(text, f"{count.label} compté")
        if cents < 0:
            raise InvalidInput(f"{count.label} compté : le montant ne peut pas être négatif.")
        return cents

    def _show_diff(self, method: str) -> None:
        count = self.count_rows[method]
        try:
            counted = self._counted(method)
        except InvalidInput as exc:
            show_form_error(count.error, exc.message)
            count.difference.setText("—")
            count.difference.setStyleSheet("")
            return
        show_form_error(count.error, "")
        if counted is None:
            count.difference.setText("")
            return
        difference = counted - self._expected.get(method, 0)
        count.difference.setText(signed_cents(difference))
        colour = RED if difference else GREEN
        count.difference.setStyleSheet(f"color: {colour}; font-weight: bold;")

    # -- closing -----------------------------------------------------------------------
    def close_day(self) -> None:
        counted: dict[str, int] = {}
        refused = False
        for method, count in self.count_rows.items():
            try:
                value = self._counted(method)
            except InvalidInput as exc:
                show_form_error(count.error, exc.message)
                refused = True
                continue
            if value is not None:
                counted[method] = value
        if refused:
            self.day_status.setText("Corrigez les montants comptés : rien n'a été enregistré.")
            self.day_status.setStyleSheet(f"color: {RED};")
            return
        day = self.day_edit.date().toPython()
        ask_confirmation(
            self,
            "Clôture de la journée (Z)",
            z_summary(
                day,
                self._report,
                self._expected,
                counted,
                since=self._closed(RecordType.DAY_CLOSURE, day.isoformat()),
            ),
            yes="Clôturer (Z)",
            then=lambda: self._close_day_confirmed(day, counted),
        )

    def _close_day_confirmed(self, day: date, counted: dict[str, int]) -> None:
        operator = self.ctx.operator_name

        def record(session: Session) -> Recorded:
            return close_day(session, day, operator=operator, counted=counted or None)

        recorded = self.ctx.write(self, record)
        if recorded is None:
            return
        for count in self.count_rows.values():
            count.counted.clear()
        self._closed_now(recorded.seq, f"Journée du {day_label(day)} clôturée", self.day_status)

    def close_month(self) -> None:
        period = self.month_combo.currentData()
        if period is None or not self.ctx.can(Permission.CLOSE_PERIOD):
            return
        operator = self.ctx.operator_name
        recorded = self.ctx.write(self, lambda s: close_month(s, period, operator=operator))
        if recorded is not None:
            self._closed_now(
                recorded.seq, f"Mois de {month_label(period)} clôturé", self.period_status
            )

    def close_year(self) -> None:
        if not self.ctx.can(Permission.CLOSE_PERIOD):
            return
        year, operator = self.year_spin.value(), self.ctx.operator_name
        recorded = self.ctx.write(self, lambda s: close_year(s, year, operator=operator))
        if recorded is not None:
            self._closed_now(recorded.seq, f"Exercice {year} clôturé", self.period_status)

    def _closed_now(self, seq: int, what: str, status: QLabel) -> None:
        if self._stale:  # hidden: ledger_changed did not refresh the screen
            self.refresh()
        self.closure_list.show_all()
        self.closure_list.select_closure(seq)
        closure = self.closure_list.selected()
        status.setStyleSheet(f"color: {GREEN};")
        if closure is None:
            status.setText(f"{what}.")
            return
        status.setText(f"{what} : {document_number(closure.record_type, closure.number)}.")
        self.closure_recorded.emit(closure)


def _amount_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    label.setMinimumWidth(110)
    return label
