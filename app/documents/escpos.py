"""Direct printing on ESC/POS thermal receipt printers, through python-escpos.

Code page: Windows-1252 (python-escpos "CP1252", selected with ESC t 16, Epson's "WPC1252"
table, also found on most Epson-compatible printers). It holds the euro sign (0x80), every
French accented letter, « » and typographic dashes, and unlike CP858 (ESC t 19, € at
0xD5) it has œ and Œ — a grocery prints "Œufs" every day. A printer without table 16
can be configured with ``"code_page": "CP858"``; œ then prints as "oe".

The text is encoded by us for that one code page (python-escpos's automatic code page
switching is turned off by ``charcode``), so what is sent is predictable and testable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from escpos import exceptions as escpos_errors
from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.printer import Dummy, File, Network, Serial, Usb

from app.errors import ComptoirError, InvalidInput

CODE_PAGES = {"CP1252": "cp1252", "CP858": "cp858"}
"""python-escpos code page name -> Python codec used to check what can be printed."""
DEFAULT_CODE_PAGE = "CP1252"
DRAWER_PIN = 2
QR_DOTS = 6  # printer dots a QR module: 0.75 mm at 203 dpi, read by any phone
PRINTER_KINDS = ("network", "usb", "serial", "file", "dummy")

_SPACES = {"\u202f", "\u00a0", "\u2009", "\u2007"}
_SUBSTITUTES = {
    "œ": "oe",
    "Œ": "OE",
    "€": "EUR",
    "—": "-",
    "–": "-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "…": "...",
}


class PrinterError(ComptoirError):
    """The receipt printer cannot be reached or refused the job."""


def _number(config: Mapping[str, Any], key: str) -> int:
    value = config[key]
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Réglage d'imprimante invalide : « {key} » = {value!r}.") from None


def make_printer(config: Mapping[str, Any]) -> Escpos:
    """A printer from its settings, e.g. {"kind": "network", "host": "192.168.1.50"}.

    kinds: network (host, port=9100, timeout=10), usb (vendor_id, product_id, as numbers
    or "0x04b8"), serial (device, baudrate=9600), file (path, e.g. /dev/usb/lp0), dummy.
    An optional "profile" names a python-escpos printer profile ("TM-T88V"). Nothing is
    opened here: the connection is made on the first byte sent.
    """
    kind = config.get("kind")
    options: dict[str, Any] = {"profile": config["profile"]} if config.get("profile") else {}
    try:
        if kind == "network":
            timeout = float(config.get("timeout", 10))
            return Network(
                config["host"], _number({"port": 9100, **config}, "port"), timeout, **options
            )
        if kind == "usb":
            _require(Usb, "pyusb")
            return Usb(_number(config, "vendor_id"), _number(config, "product_id"), **options)
        if kind == "serial":
            _require(Serial, "pyserial")
            baudrate = _number({"baudrate": 9600, **config}, "baudrate")
            return Serial(config["device"], baudrate, **options)
        if kind == "file":
            return File(config["path"], **options)
        if kind == "dummy":
            return Dummy(**options)
    except KeyError as missing:
        raise InvalidInput(
            f"Réglage d'imprimante incomplet : « {missing.args[0]} » manquant."
        ) from None
    except escpos_errors.Error as error:
        raise InvalidInput("Profil d'imprimante inconnu.", detail=str(error)) from error
    known = ", ".join(PRINTER_KINDS)
    raise InvalidInput(f"Type d'imprimante inconnu : {kind!r} (possibles : {known}).")


def _require(printer_class: type[Escpos], package: str) -> None:
    usable = getattr(printer_class, "is_usable", None)
    if usable is not None and not usable():
        raise PrinterError(
            f"Cette connexion d'imprimante demande le module Python « {package} », "
            "qui n'est pas installé."
        )


def printable(text: str, code_page: str = DEFAULT_CODE_PAGE) -> str:
    """text reduced to what the code page holds: spaces for the narrow no-break spaces of
    amounts, plain look-alikes for the rest, and "?" as a last resort."""
    codec = CODE_PAGES[code_page]
    out: list[str] = []
    for char in text:
        if char in _SPACES:
            out.append(" ")
            continue
        try:
            char.encode(codec)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(_SUBSTITUTES.get(char) or base or "?")
        else:
            out.append(char)
    return "".join(out)


def _begin(printer: Escpos, code_page: str) -> None:
    if code_page not in CODE_PAGES:
        raise InvalidInput(
            f"Table de caractères non prise en charge : {code_page} "
            f"(possibles : {', '.join(CODE_PAGES)})."
        )
    # ESC @ clears styles left by an earlier job and resets the printer's table to 0, so
    # the encoder must forget its own idea of the current table to send ESC t again.
    printer.hw("INIT")
    printer.magic.encoding = None
    try:
        printer.charcode(code_page)
    except ValueError as error:
        raise PrinterError(
            f"Le profil de cette imprimante ne connaît pas la table {code_page} : "
            "choisissez-en une autre dans les réglages.",
            detail=str(error),
        ) from error


def _send(printer: Escpos, job: Any) -> None:
    try:
        job()
    except (OSError, RuntimeError, escpos_errors.Error) as error:
        raise PrinterError(
            "L'imprimante de tickets ne répond pas : vérifiez qu'elle est allumée, "
            "reliée et approvisionnée en papier.",
            detail=repr(error),
        ) from error


def kick_drawer(printer: Escpos, pin: int = DRAWER_PIN) -> None:
    """Open the cash drawer wired to the printer (ESC p)."""
    _send(printer, lambda: printer.cashdraw(pin))


def _lines(printer: Escpos, text: str, code_page: str) -> None:
    printer.text(printable(text, code_page))
    if not text.endswith("\n"):
        printer.text("\n")


def print_receipt(
    printer: Escpos,
    text: str,
    *,
    cut: bool = True,
    open_drawer: bool = False,
    code_page: str = DEFAULT_CODE_PAGE,
    qr: str | None = None,
    after: str = "",
) -> None:
    """Print text (from `receipt_text`) with the chosen code page; the caller closes the
    printer when it no longer needs the connection.

    ``qr``: a verification code printed as a QR code under ``text``, then ``after`` (both
    from `receipt_print`). The code is drawn here and sent as an image, which every
    printer able to print a logo takes, unlike the printers' own QR commands."""

    def job() -> None:
        _begin(printer, code_page)
        if open_drawer:
            # Opened before the paper comes out, so change can be given while it prints.
            printer.cashdraw(DRAWER_PIN)
        _lines(printer, text, code_page)
        if qr:
            # Centred by the printer (ESC a): python-escpos centres an image only when the
            # profile knows the paper's width in dots.
            printer.set(align="center")
            printer.qr(qr, ec=QR_ECLEVEL_M, size=QR_DOTS)
            printer.set(align="left")
        if after:
            _lines(printer, after, code_page)
        if cut:
            printer.cut()

    _send(printer, job)


def print_test_page(printer: Escpos, *, code_page: str = DEFAULT_CODE_PAGE) -> None:
    """A page to check the printer: accents, euro sign, line widths, large text, cut."""

    def job() -> None:
        _begin(printer, code_page)
        printer.set(align="center", bold=True, double_height=True, double_width=True)
        printer.text("Comptoir\n")
        printer.set(align="left", bold=False, normal_textsize=True)
        lines = [
            "Page de test de l'imprimante",
            f"Table de caractères : {code_page}",
            "Accents : àâäçéèêëîïôöùûüÿ",
            "          ÀÂÇÉÈÊËÎÏÔÙÛÜ",
            "Ligatures : œ Œ   Guillemets : « »",
            "Montants : 1 234,50 €  0,99 €",
            "32 colonnes :",
            "12345678901234567890123456789012",
            "48 colonnes :",
            "123456789012345678901234567890123456789012345678",
        ]
        printer.text(printable("\n".join(lines) + "\n", code_page))
        printer.cut()

    _send(printer, job)
