"""Customer pole displays (2 lines of 20 characters) on a serial or USB port, through
python-escpos.

The bytes are those of the Epson-compatible command set most pole displays speak
(DM-D110 and look-alikes): ESC @ initialise, ESC t 19 code page 858 (which has "€"),
FF clear, the first line, US $ 1 2 cursor to the start of line 2, the second line."""

from __future__ import annotations

import contextlib
from typing import Any

from escpos import exceptions as escpos_errors
from escpos.escpos import Escpos

from app.documents.escpos import PrinterError, make_printer, printable
from app.sales.display import POLE_WIDTH

INIT = b"\x1b@"
CODE_PAGE_858 = b"\x1bt\x13"
CLEAR = b"\x0c"
SECOND_LINE = b"\x1f$\x01\x02"


def pole_bytes(top: str, bottom: str) -> bytes:
    def line(text: str) -> bytes:
        return printable(text, "CP858")[:POLE_WIDTH].ljust(POLE_WIDTH).encode("cp858")

    return INIT + CODE_PAGE_858 + CLEAR + line(top) + SECOND_LINE + line(bottom)


class PoleDisplay:
    """One pole display, opened on first use; ``show`` sends two lines."""

    def __init__(self, device: Escpos) -> None:
        self.device = device

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PoleDisplay:
        return cls(make_printer(config))

    def show(self, top: str, bottom: str) -> None:
        try:
            self.device._raw(pole_bytes(top, bottom))
        except (OSError, escpos_errors.Error) as error:
            raise PrinterError(
                "L'afficheur client ne répond pas : vérifiez son câble et ses réglages.",
                detail=repr(error),
            ) from error

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a device never opened has nothing to close
            self.device.close()
