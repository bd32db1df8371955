"""ESC/POS output checked byte by byte on python-escpos's Dummy printer."""

from __future__ import annotations

import socket

import pytest
from escpos.printer import Dummy, File, Network, Usb

from app.documents.escpos import (
    PrinterError,
    kick_drawer,
    make_printer,
    print_receipt,
    print_test_page,
    printable,
)
from app.documents.receipt import receipt_text
from app.errors import InvalidInput
from app.sales.service import get_ticket
from tests.documents import SHOP, record_shop, rich_sale

INIT = b"\x1b@"
SELECT_CP1252 = b"\x1bt\x10"  # ESC t 16: WPC1252
SELECT_CP858 = b"\x1bt\x13"  # ESC t 19: PC858
CUT = b"\x1dV"
DRAWER = b"\x1bp"


def _printed(text: str, **options) -> bytes:
    printer = Dummy()
    print_receipt(printer, text, **options)
    return printer.output


def test_cp1252_is_selected_before_any_text_and_encodes_french() -> None:
    out = _printed("Œufs, crème brûlée : 1\u202f234,50 €")
    assert out.startswith(INIT + SELECT_CP1252)
    assert b"\x8cufs, cr\xe8me br\xfbl\xe9e : 1 234,50 \x80\n" in out
    assert out.index(SELECT_CP1252) < out.index(b"\x8c")
    assert b"?" not in out


def test_cp858_puts_the_euro_at_d5() -> None:
    out = _printed("Café 2,50 € Œuf", code_page="CP858")
    assert out.startswith(INIT + SELECT_CP858)
    assert b"Caf\x82 2,50 \xd5 OEuf\n" in out


def test_cut_and_drawer_only_when_asked() -> None:
    plain = _printed("Merci\n")
    assert plain.endswith(CUT + b"\x00")
    assert DRAWER not in plain
    assert CUT not in _printed("Merci\n", cut=False)
    drawer = _printed("Merci\n", open_drawer=True)
    assert drawer.count(DRAWER) == 1
    assert drawer.index(DRAWER) < drawer.index(b"Merci")


def test_kick_drawer_sends_esc_p() -> None:
    printer = Dummy()
    kick_drawer(printer)
    assert printer.output.startswith(DRAWER + b"\x00")


def test_each_job_selects_its_code_page_again() -> None:
    printer = Dummy()
    print_receipt(printer, "un")
    print_receipt(printer, "deux")
    # ESC @ resets the printer's table, so the second job must select it again.
    assert printer.output.count(INIT + SELECT_CP1252) == 2


def test_real_receipt_prints_encoded(ledger) -> None:
    record_shop(ledger)
    rich_sale(ledger)
    with ledger.reader() as session:
        text = receipt_text(get_ticket(session, 1), SHOP, 48)
    out = _printed(text, open_drawer=True)
    assert out.startswith(INIT + SELECT_CP1252)
    for chunk in (
        b"\xc9picerie du Comptoir",
        b"SIRET 12345678200010",
        b"Op\xe9rateur : Alice",
        b"Comt\xe9 18 mois",
        b"\x8cufs plein air x6",
        b"TOTAL TTC",
        b"41,87 \x80",
        b"Monnaie rendue",
        b"18,13 \x80",
    ):
        assert chunk in out, chunk
    assert b"SARL au capital de 10 000 \x80" in out
    assert out.count(b"\n") == text.count("\n")
    assert b"?" not in out
    assert CUT in out and DRAWER in out


def test_test_page() -> None:
    printer = Dummy()
    print_test_page(printer)
    out = printer.output
    assert out.startswith(INIT + SELECT_CP1252)
    assert b"\xe0\xe2\xe4\xe7\xe9\xe8\xea\xeb" in out
    assert b"1 234,50 \x80" in out and b"\x9c \x8c" in out
    assert CUT in out and DRAWER not in out


def test_printable_replaces_what_the_page_lacks() -> None:
    assert printable("1\u202f234,50\u00a0€") == "1 234,50 €"
    assert printable("œ — «x»", "CP858") == "oe - «x»"
    assert printable("Ω") == "?"
    assert printable("ﬁ") == "fi"
    with pytest.raises(InvalidInput):
        print_receipt(Dummy(), "x", code_page="CP437")


def test_make_printer_kinds(tmp_path) -> None:
    assert isinstance(make_printer({"kind": "dummy"}), Dummy)
    network = make_printer({"kind": "network", "host": "192.0.2.10"})
    assert isinstance(network, Network) and (network.host, network.port) == ("192.0.2.10", 9100)
    assert make_printer({"kind": "network", "host": "h", "port": "9101"}).port == 9101
    target = tmp_path / "lp0"
    printer = make_printer({"kind": "file", "path": str(target)})
    assert isinstance(printer, File)
    print_receipt(printer, "Réglé")
    printer.close()
    assert target.read_bytes().startswith(INIT + SELECT_CP1252 + b"R\xe9gl\xe9\n")


def test_make_printer_refusals() -> None:
    with pytest.raises(InvalidInput, match="inconnu"):
        make_printer({"kind": "bluetooth"})
    with pytest.raises(InvalidInput, match="host"):
        make_printer({"kind": "network"})
    with pytest.raises(InvalidInput, match="port"):
        make_printer({"kind": "network", "host": "h", "port": "neuf"})
    if Usb.is_usable():
        assert isinstance(
            make_printer({"kind": "usb", "vendor_id": "0x04b8", "product_id": 0x0202}), Usb
        )
    else:
        with pytest.raises(PrinterError, match="pyusb"):
            make_printer({"kind": "usb", "vendor_id": "0x04b8", "product_id": 0x0202})


def test_unreachable_printer_is_a_printer_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printer = make_printer({"kind": "network", "host": "127.0.0.1", "port": port, "timeout": 2})
    with pytest.raises(PrinterError, match="ne répond pas"):
        print_receipt(printer, "x")
