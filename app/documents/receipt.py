"""Sale receipts: one list of rows, laid out as a PDF roll or as text for a thermal printer.

Both renderings come from `receipt_rows`, so the paper from the PDF and the paper from
the ESC/POS printer always carry the same mentions.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from io import BytesIO
from typing import Any, Literal
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit

from app.documents.fonts import (
    BOLD,
    REGULAR,
    new_canvas,
    text_width,
)
from app.documents.qr import draw_qr
from app.documents.text import method_label
from app.documents.watermark import TRAINING_WATERMARK, draw_watermark
from app.errors import InvalidInput
from app.ledger.canonical import parse_ts
from app.ledger.journal import signature_excerpt
from app.ledger.records import RecordType, document_number
from app.ledger.settings import FiscalSettings
from app.sales.payments import PaymentMethod
from app.sales.service import CANCELLATION, REFUND, Ticket
from app.values.money import format_cents
from app.values.vat import format_rate

Layout = Literal["text", "pair", "item", "vat", "rule", "qr"]
Style = Literal["normal", "bold", "small", "heading", "title", "big"]
DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(frozen=True)
class Row:
    """One printed row; `layout` says how its cells share the width, on paper and in text."""

    cells: tuple[str, ...] = ()
    layout: Layout = "text"
    style: Style = "normal"
    center: bool = False


RULE = Row(layout="rule")


def shop_time(ts: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A UTC record timestamp as shop time to the second: 02/03/2026 09:00:00."""
    return parse_ts(ts).astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M:%S")


def format_quantity(qty: str, weighed: bool) -> str:
    value = Decimal(qty)
    if weighed:
        return f"{value:.3f}".replace(".", ",") + " kg"
    return format(value.normalize(), "f").replace(".", ",")


def _centered(text: str, style: Style = "normal") -> list[Row]:
    return [
        Row((line.strip(),), style=style, center=True) for line in text.splitlines() if line.strip()
    ]


def _identity(shop: FiscalSettings) -> list[Row]:
    rows = [Row((shop.name,), style="title", center=True)] if shop.name else []
    city = f"{shop.postcode} {shop.city}".strip()
    for text in (shop.legal_form, shop.address, city):
        if text:
            rows.append(Row((text,), center=True))
    if shop.phone:
        rows.append(Row((f"Tél. {shop.phone}",), center=True))
    if shop.siret:
        rows.append(Row((f"SIRET {shop.siret}",), center=True))
    if shop.vat_number:
        rows.append(Row((f"TVA intracom. {shop.vat_number}",), center=True))
    if shop.vat_regime == "franchise":
        rows.append(Row(("TVA non applicable, art. 293 B du CGI",), "text", "small", True))
    return rows


def _correction(body: dict[str, Any]) -> list[Row]:
    if body["kind"] not in (CANCELLATION, REFUND):
        return []
    what = "ANNULATION" if body["kind"] == CANCELLATION else "REMBOURSEMENT"
    original = document_number(RecordType.TICKET, body["original"]["number"])
    return [
        Row((f"{what} du ticket {original}",), style="heading", center=True),
        Row((f"Motif : {body['reason']}",), center=True),
    ]


def _lines(body: dict[str, Any]) -> list[Row]:
    rows = [Row(("Article", "TVA", "Montant", ""), "item", "bold")]
    for line in body["lines"]:
        qty = format_quantity(line["qty"], line["weighed"])
        detail = ""
        if line["weighed"] or qty not in ("1", "-1"):
            per = "/kg" if line["weighed"] else ""
            detail = f"  {qty} x {format_cents(line['unit_price'])}{per}"
        rate, gross = format_rate(line["rate"]), format_cents(line["gross"])
        rows.append(Row((line["label"], rate, gross, detail), "item"))
        if line["discount"]:
            rows.append(Row(("  Remise", "", format_cents(-line["discount"]), ""), "item"))
    if body["ticket_discount"]:
        rows.append(
            Row(("Remise sur le ticket", format_cents(-body["ticket_discount"])), "pair", "bold")
        )
    return rows


def _totals(body: dict[str, Any]) -> list[Row]:
    rows = [Row(("Taux", "HT", "TVA", "TTC"), "vat", "bold")]
    for v in body["vat"]:
        cells = (format_rate(v["rate"]), *(format_cents(v[k]) for k in ("base", "vat", "total")))
        rows.append(Row(cells, "vat"))
    return [
        *rows,
        Row(("Total HT", format_cents(body["total_excl"])), "pair"),
        Row(("Total TVA", format_cents(body["total_vat"])), "pair"),
        Row(("TOTAL TTC", format_cents(body["total"])), "pair", "big"),
    ]


def _payments(body: dict[str, Any]) -> list[Row]:
    title = "Règlement" if body["total"] >= 0 else "Remboursé"
    rows = [Row((title,), style="bold")]
    for payment in body["payments"]:
        rows.append(
            Row((f"  {method_label(payment['method'])}", format_cents(payment["amount"])), "pair")
        )
        if payment.get("reference"):
            rows.append(Row((f"    Autorisation n° {payment['reference']}",)))
    if body["change"]:
        given = sum(p["amount"] for p in body["tendered"] if p["method"] == PaymentMethod.CASH)
        rows.append(Row(("  Espèces remises", format_cents(given)), "pair"))
        rows.append(Row(("  Monnaie rendue", format_cents(body["change"])), "pair", "bold"))
    return rows


def receipt_rows(
    ticket: Ticket,
    shop: FiscalSettings,
    *,
    header: str = "",
    footer: str = "",
    duplicate: int | None = None,
    training: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
    check: str | None = None,
) -> list[Row]:
    """Every mention of a receipt, in print order; ``check`` is the record's verification
    code (``app.ledger.verify.receipt.check_code``), printed as text and as a QR code."""
    body = ticket.body
    banner = [Row((TRAINING_WATERMARK,), style="bold", center=True)] if training else []
    copy = []
    if duplicate is not None:
        copy = [Row((f"DUPLICATA n°{duplicate}",), style="big", center=True)]
    return [
        *banner,
        *_centered(header),
        *_identity(shop),
        RULE,
        *copy,
        *_correction(body),
        Row((f"Ticket {ticket.doc_number}", f"Caisse {ticket.till}"), "pair", "bold"),
        Row((f"Le {shop_time(ticket.ts, timezone)}", f"Opérateur : {ticket.operator}"), "pair"),
        RULE,
        *_lines(body),
        RULE,
        *_totals(body),
        RULE,
        *_payments(body),
        RULE,
        Row((f"Signature {signature_excerpt(ticket.signature)}",), style="small", center=True),
        *_check_rows(check),
        *_centered(footer),
        *banner,
    ]


def _check_rows(check: str | None) -> list[Row]:
    if not check:
        return []
    return [
        Row(("Code de vérification",), style="small", center=True),
        Row((check,), "qr", "small", center=True),
    ]


def check_of(rows: list[Row]) -> str | None:
    """The verification code among a receipt's rows (the printer draws its QR code)."""
    return next((row.cells[0] for row in rows if row.layout == "qr"), None)


# -- placing cells (shared by text and PDF) ------------------------------------------
Wrap = Callable[[str, bool], list[str]]
"""wrap(text, beside): lines of text fitting beside the right-hand cells, or the full width."""


def stack(row: Row, wrap: Wrap) -> list[tuple[str, bool]]:
    """The lines of a pair or item row: (left text, whether the right-hand cells go on it).

    The label stays on one line beside its amounts when it can; otherwise it takes the
    full width and the amounts go on the next line that has room (an item's detail).
    """
    label = row.cells[0]
    detail = row.cells[3] if row.layout == "item" else ""
    beside = wrap(label, True)
    if len(beside) == 1:
        return [(beside[0], True), *((line, False) for line in wrap(detail, False) if detail)]
    lines = [(line, False) for line in wrap(label, False)]
    if detail and len(wrap(detail, True)) == 1:
        return [*lines, (detail, True)]
    if not detail and len(wrap(lines[-1][0], True)) == 1:
        return [*lines[:-1], (lines[-1][0], True)]
    return [*lines, *((line, False) for line in wrap(detail, False) if detail), ("", True)]


# -- text ----------------------------------------------------------------------------
def _wrap(text: str, width: int) -> list[str]:
    indent = text[: len(text) - len(text.lstrip())]
    return textwrap.wrap(text, width, subsequent_indent=indent) or [""]


def _text_row(row: Row, width: int) -> list[str]:
    if row.layout == "rule":
        return ["-" * width]
    cells = row.cells
    if row.layout in ("text", "qr"):
        # The code's hyphens are where it may wrap; its QR code is the printer's to draw.
        lines = _wrap(cells[0], width)
        return [line.center(width).rstrip() for line in lines] if row.center else lines
    if row.layout == "vat":
        rest = (width - 6) // 3
        line = cells[0].ljust(6) + "".join(cell.rjust(rest) for cell in cells[1:])
        if len(line) > width:
            short = [cell.removesuffix(" €") for cell in cells[1:]]
            line = cells[0].ljust(6) + "".join(cell.rjust(rest) for cell in short)
        return [line]
    if row.layout == "pair":
        tail = cells[1]
    else:
        tail = cells[1].rjust(6) + " " + cells[2].rjust(max(9, len(cells[2])))
    room = width - len(tail) - 1

    def wrap(text: str, beside: bool) -> list[str]:
        return _wrap(text, room) if beside and len(text) > room else _wrap(text, width)

    return [
        left + tail.rjust(width - len(left)) if with_tail else left
        for left, with_tail in stack(row, wrap)
    ]


def receipt_text(
    ticket: Ticket,
    shop: FiscalSettings,
    width_chars: int = 48,
    **options: Any,
) -> str:
    """The receipt as lines of at most `width_chars` (48 on 80 mm paper, 32 on 58 mm)."""
    return "".join(receipt_print(ticket, shop, width_chars, **options).parts)


@dataclass(frozen=True)
class PrintedReceipt:
    """A receipt for a thermal printer: the text down to the verification code, the code
    the printer draws as a QR code under it (None: no code), then the rest of the text."""

    text: str
    qr: str | None
    after: str

    @property
    def parts(self) -> tuple[str, str]:
        return self.text, self.after


def _text_of(rows: list[Row], width: int) -> str:
    return "".join(line + "\n" for row in rows for line in _text_row(row, width))


def receipt_print(
    ticket: Ticket,
    shop: FiscalSettings,
    width_chars: int = 48,
    **options: Any,
) -> PrintedReceipt:
    """The receipt as text of at most `width_chars` columns, cut where its QR code goes."""
    if width_chars < 24:
        raise InvalidInput("Un ticket texte fait au moins 24 caractères de large.")
    rows = receipt_rows(ticket, shop, **options)
    cut = next((i + 1 for i, row in enumerate(rows) if row.layout == "qr"), len(rows))
    return PrintedReceipt(
        _text_of(rows[:cut], width_chars), check_of(rows), _text_of(rows[cut:], width_chars)
    )


# -- PDF -----------------------------------------------------------------------------
STYLES: dict[str, tuple[str, float]] = {
    "normal": (REGULAR, 1.0),
    "bold": (BOLD, 1.0),
    "small": (REGULAR, 0.85),
    "heading": (BOLD, 1.2),
    "title": (BOLD, 1.45),
    "big": (BOLD, 1.75),
}
Op = tuple[str, float, float, str, str, float]  # (align, x, baseline from top, text, font, size)
# A QR op: ("qr", left, bottom from top, code, font, side).


def qr_side(width: float) -> float:
    """The QR code's side on a roll whose printable width is ``width`` points: big enough
    for a phone at arm's length (0.6 mm a module or more), never wider than half the roll."""
    return max(20 * mm, min(width * 0.45, 28 * mm))


def _pdf_wrap(
    text: str, beside: bool, *, font: str, fs: float, room: float, width: float, space: float
) -> list[str]:
    """Wrap in points; leading spaces are kept on every line and drawn as an indent."""
    indent = text[: len(text) - len(text.lstrip())]
    avail = (room if beside else width) - len(indent) * space
    return [indent + line for line in simpleSplit(text.strip(), font, fs, avail)] or [""]


def _layout(rows: list[Row], width: float, size: float) -> tuple[list[Op], float]:
    """Place every row; returns draw operations and the height used (points)."""
    ops: list[Op] = []
    y = 0.0
    gap = size * 0.8
    rate_right = width - text_width("-99 999,99 €", REGULAR, size) - gap
    for row in rows:
        font, scale = STYLES[row.style]
        fs = size * scale
        leading = fs * 1.3
        cells = row.cells
        if row.layout == "rule":
            ops.append(("rule", 0, y + leading * 0.45, "", font, fs))
            y += leading * 0.9
            continue
        if row.layout == "vat":
            ops.append(("left", 0, y + fs, cells[0], font, fs))
            for cell, right in zip(cells[1:], (0.48, 0.73, 1.0), strict=True):
                ops.append(("right", width * right, y + fs, cell, font, fs))
            y += leading
            continue
        if row.layout == "qr":
            for line in simpleSplit(cells[0], font, fs, width) or [""]:
                ops.append(("center", width / 2, y + fs, line, font, fs))
                y += leading
            side = qr_side(width)
            ops.append(("qr", (width - side) / 2, y + side, cells[0], font, side))
            y += side + leading * 0.3
            continue
        if row.layout == "text":
            align = "center" if row.center else "left"
            for line in simpleSplit(cells[0].strip(), font, fs, width) or [""]:
                ops.append((align, width / 2 if row.center else 0, y + fs, line, font, fs))
                y += leading
            continue
        if row.layout == "pair":
            right_cells = [(width, cells[1])]
            room = width - text_width(cells[1], font, fs) - gap
        else:
            right_cells = [(rate_right, cells[1]), (width, cells[2])]
            room = rate_right - text_width("20,0 %", font, fs) - gap
        space = text_width(" ", REGULAR, fs) * 1.5
        wrap = partial(_pdf_wrap, font=font, fs=fs, room=room, width=width, space=space)
        for left, with_tail in stack(row, wrap):
            indent = len(left) - len(left.lstrip())
            ops.append(("left", indent * space, y + fs, left.strip(), font, fs))
            if with_tail:
                ops.extend(("right", x, y + fs, cell, font, fs) for x, cell in right_cells)
            y += leading
    return ops, y


def render_receipt_pdf(
    ticket: Ticket,
    shop: FiscalSettings,
    *,
    width_mm: int = 80,
    header: str = "",
    footer: str = "",
    duplicate: int | None = None,
    training: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
    check: str | None = None,
) -> bytes:
    """A receipt as a one-page PDF as wide as the roll and as tall as its content."""
    if not 40 <= width_mm <= 120:
        raise InvalidInput("Largeur de ticket invalide : entre 40 et 120 mm.")
    rows = receipt_rows(
        ticket,
        shop,
        header=header,
        footer=footer,
        duplicate=duplicate,
        training=training,
        timezone=timezone,
        check=check,
    )
    narrow = width_mm < 70
    size = 7.0 if narrow else 8.5
    side = (3 if narrow else 4) * mm
    top, bottom = 5 * mm, 10 * mm
    page_w = width_mm * mm
    ops, used = _layout(rows, page_w - 2 * side, size)
    page_h = top + used + bottom
    buffer = BytesIO()
    canvas = new_canvas(buffer, page_w, page_h, f"Ticket {ticket.doc_number}")
    if training:
        draw_watermark(canvas, page_w, page_h)
    canvas.setLineWidth(0.5)
    for align, x, from_top, text, font, fs in ops:
        y = page_h - top - from_top
        if align == "qr":
            draw_qr(canvas, text, side + x, y, fs)
            continue
        if align == "rule":
            canvas.setDash(1.5, 1.5)
            canvas.line(side, y, page_w - side, y)
            canvas.setDash()
            continue
        canvas.setFont(font, fs)
        if align == "right":
            canvas.drawRightString(side + x, y, text)
        elif align == "center":
            canvas.drawCentredString(side + x, y, text)
        else:
            canvas.drawString(side + x, y, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
