"""The application's identity on the desktop: its icon, and the Linux menu entry."""

from __future__ import annotations

import configparser
from pathlib import Path

from PySide6.QtGui import QIcon, QImage

from app.ui.main_window import APP_ICON

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_icon_is_a_square_picture_in_the_shops_blue(qapp) -> None:
    image = QImage(str(APP_ICON))
    assert not image.isNull()
    assert (image.width(), image.height()) == (256, 256)
    assert image.pixelColor(128, 20).name() == "#1f6feb"  # the background, above the till
    assert image.pixelColor(0, 0).alpha() == 0  # rounded corners
    assert not QIcon(str(APP_ICON)).isNull()
    assert (ROOT / "resources" / "icons" / "comptoir.ico").stat().st_size > 0


def test_the_desktop_entry_starts_comptoir_with_its_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "installer" / "comptoir.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Name"] == "Comptoir"
    assert desktop["Exec"] == "comptoir"
    assert desktop["Icon"] == APP_ICON.stem
    assert desktop["Terminal"] == "false"
