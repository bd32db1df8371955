"""A picture on a product's till tile: chosen in the catalogue, checked, kept private;
anything that is not a picture is refused in French and nothing of it is kept."""

from __future__ import annotations

import stat
import struct
import zlib

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from app.catalog.images import image_path, images_dir
from app.catalog.service import search_products
from app.ui.main_window import PAGES


def _photo(path):
    Image.new("RGB", (640, 480), (200, 40, 40)).save(path, format="JPEG")
    return path


def _bomb(path):
    """A PNG header claiming 100 000 × 100 000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
    data += struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    path.write_bytes(data)
    return path


def _choose(qtbot, screen, monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(screen.findChild(QPushButton, "choosePicture"), Qt.MouseButton.LeftButton)


def _baguette(window):
    with window.ctx.ledger.reader() as session:
        return next(p for p in search_products(session, "Baguette") if p.name.startswith("Bag"))


def test_a_picture_goes_on_the_tile_and_can_be_taken_away(
    qtbot, window, monkeypatch, tmp_path
) -> None:
    window.nav.setCurrentRow(PAGES.index("Catalogue"))
    screen = window.screens["Catalogue"]
    product = _baguette(window)
    screen.edit_product(product)
    _choose(qtbot, screen, monkeypatch, _photo(tmp_path / "baguette.jpg"))
    assert screen.form_status.text() == "Image de « Baguette tradition » enregistrée."
    saved = _baguette(window)
    stored = image_path(saved.image)
    assert stored is not None and stored.parent == images_dir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    with Image.open(stored) as small:
        assert small.format == "PNG" and max(small.size) == 160
    assert not screen.picture.pixmap().isNull()

    window.nav.setCurrentRow(PAGES.index("Caisse"))
    window.till.refresh()
    qtbot.wait(50)  # the tiles of before are deleted once events run
    tile = window.till.findChild(QPushButton, f"product_{product.id}")
    assert tile is not None and not tile.icon().isNull()

    window.nav.setCurrentRow(PAGES.index("Catalogue"))
    screen.edit_product(saved)
    qtbot.mouseClick(screen.findChild(QPushButton, "removePicture"), Qt.MouseButton.LeftButton)
    assert _baguette(window).image is None
    assert "retirée" in screen.form_status.text()


def test_files_that_are_not_pictures_are_refused_in_french(
    qtbot, window, monkeypatch, tmp_path
) -> None:
    window.nav.setCurrentRow(PAGES.index("Catalogue"))
    screen = window.screens["Catalogue"]
    screen.edit_product(_baguette(window))
    fake = tmp_path / "photo.png"
    fake.write_text("pas une image")
    truncated = tmp_path / "coupee.jpg"
    truncated.write_bytes(_photo(tmp_path / "ok.jpg").read_bytes()[:300])
    for path in (fake, truncated, _bomb(tmp_path / "bombe.png")):
        _choose(qtbot, screen, monkeypatch, path)
        assert "n'est pas une image lisible" in screen.form_error.text() or (
            "trop grande" in screen.form_error.text()
        ), path.name
        assert _baguette(window).image is None
    assert not images_dir().exists() or not list(images_dir().iterdir())


def test_a_new_product_asks_to_be_saved_first(qtbot, window, monkeypatch, tmp_path) -> None:
    window.nav.setCurrentRow(PAGES.index("Catalogue"))
    screen = window.screens["Catalogue"]
    screen.new_product()
    _choose(qtbot, screen, monkeypatch, _photo(tmp_path / "x.jpg"))
    assert "Enregistrez d'abord l'article" in screen.form_error.text()
