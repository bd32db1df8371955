"""The till's product tiles and category buttons, each in its category's colour.

A category keeps its colour: its slot in the palette comes from its name (a checksum,
the same on every machine and at every start), moved to the next free slot only when an
earlier category already holds it, so that the categories on screen all differ and a new
category, added last, never changes the colour of the others.
"""

from __future__ import annotations

import textwrap
import zlib
from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QPushButton

from app.catalog.images import image_path
from app.catalog.service import ProductInfo
from app.ui.theme import CATEGORY_COLOURS, NEUTRAL_TONE, TOUCH
from app.values.money import format_cents

TILE_SIZE = (100, 72)  # px: the smallest a tile shrinks to
WIDE_TILE = 160  # px: from this width a line of a tile holds 18 characters, not 12

PICTURE_SIZE = (44, 44)  # px on a tile: the name stays readable beside it


def _slot(name: str) -> int:
    return zlib.crc32(name.casefold().encode()) % len(CATEGORY_COLOURS)


def category_tones(names: Iterable[str]) -> dict[str, str]:
    """Each category name (in the catalog's order) its tone: a palette index, as text."""
    tones: dict[str, str] = {}
    used: set[int] = set()
    for name in names:
        slot = _slot(name)
        while slot in used and len(used) < len(CATEGORY_COLOURS):
            slot = (slot + 1) % len(CATEGORY_COLOURS)
        used.add(slot)
        tones[name] = str(slot)
    return tones


def tone_of(tones: dict[str, str], category: str | None) -> str:
    if not category:
        return NEUTRAL_TONE
    return tones.get(category) or str(_slot(category))


def colour_of(button: QPushButton) -> str | None:
    """The category colour a tile or category button is dressed in (None: neutral)."""
    tone = button.property("tone")
    return None if tone in (None, NEUTRAL_TONE) else CATEGORY_COLOURS[int(tone)]


def category_button(category_id: int | None, name: str, tone: str, chosen: bool) -> QPushButton:
    """A filter button; the chosen one (one at a time: a QButtonGroup) is filled with
    its colour."""
    button = QPushButton(name)
    button.setObjectName(f"category_{category_id or 'all'}")
    button.setProperty("tone", tone)
    button.setMinimumHeight(TOUCH)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setCheckable(True)
    button.setChecked(chosen)
    return button


def line_length(width: int) -> int:
    """How many characters of a product's name go on one line of a tile ``width`` wide
    (13 px text): the whole name on a large screen, two short lines on a small one."""
    return 18 if width >= WIDE_TILE else 12


def product_tile(product: ProductInfo, tone: str, line: int = 12) -> QPushButton:
    unit = " /kg" if product.weighed else ""
    name = "\n".join(textwrap.wrap(product.name, line, max_lines=2, placeholder="…"))
    button = QPushButton(f"{name}\n{format_cents(product.price_cents)}{unit}")
    button.setObjectName(f"product_{product.id}")
    button.setProperty("tone", tone)
    button.setToolTip(product.name)
    button.setMinimumSize(*TILE_SIZE)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    picture = image_path(product.image)
    if picture is not None:  # the shop's picture beside the name, when it gave one
        button.setIcon(QIcon(str(picture)))
        button.setIconSize(QSize(*PICTURE_SIZE))
    return button
