"""Pole displays through python-escpos (its Dummy device), and the display's settings."""

from __future__ import annotations

from escpos.printer import Dummy

from app.documents.display_settings import display_config, save_display_config
from app.documents.pole_display import CLEAR, SECOND_LINE, PoleDisplay, pole_bytes
from app.errors import InvalidInput


def test_the_pole_display_receives_its_commands_through_python_escpos() -> None:
    device = Dummy()
    PoleDisplay(device).show("Vin rouge    11,50 €", "TOTAL        12,80 €")
    sent = device.output
    assert sent == pole_bytes("Vin rouge    11,50 €", "TOTAL        12,80 €")
    assert sent.startswith(b"\x1b@\x1bt\x13" + CLEAR)
    first, second = sent[len(b"\x1b@\x1bt\x13" + CLEAR) :].split(SECOND_LINE)
    assert len(first) == len(second) == 20
    assert first.endswith(b"11,50 \xd5")  # the euro sign of code page 858


def test_display_settings_are_checked(ledger) -> None:
    with ledger.transaction() as session:
        assert display_config(session) == {"window": False, "pole": {"kind": "none"}}
        saved = save_display_config(
            session,
            {
                "window": True,
                "pole": {"kind": "serial", "device": "/dev/ttyUSB0", "baudrate": 9600},
            },
            operator="test",
        )
        assert display_config(session) == saved
        for bad in ({"pole": {"kind": "network", "host": "x"}}, {"window": "oui"}):
            try:
                save_display_config(session, bad, operator="test")
            except InvalidInput:
                continue
            raise AssertionError(bad)
