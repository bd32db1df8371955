"""Product pictures for the till's tiles: any PNG or JPEG the shop chooses, checked with
Pillow, reduced to a small square PNG and kept in the data folder, readable by the owner
only. A file that is not a picture, too large, or that Pillow refuses is said in French;
nothing of it is kept. The pictures are not fiscal: losing one changes only a tile."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from app import config
from app.errors import InvalidInput
from app.ledger.files import private_dir, write_private_bytes

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a larger "image" is a decompression bomb, not a photo
SIDE = 160  # px: drawn at 48 to 64 px on a tile, sharp on a high-density screen
FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP"}


def images_dir() -> Path:
    return config.data_dir() / "product-images"


def image_path(name: str | None) -> Path | None:
    """The stored picture of that name, or None (no picture, or its file is gone)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = images_dir() / name
    return path if path.is_file() else None


def store_image(source: Path) -> str:
    """Check ``source``, keep a small PNG of it; returns the stored file's name."""
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"Image illisible : {source.name} ({exc.strerror}).") from None
    if size > MAX_BYTES:
        raise InvalidInput(f"L'image {source.name} dépasse 10 Mo : choisissez-en une plus légère.")
    data = source.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()  # structure only: a truncated or forged file stops here
            with Image.open(io.BytesIO(data)) as picture:
                if picture.format not in FORMATS:
                    raise InvalidInput(
                        f"{source.name} n'est pas une image PNG, JPEG, WEBP, GIF ou BMP."
                    )
                if picture.width * picture.height > MAX_PIXELS:
                    raise InvalidInput(f"L'image {source.name} est trop grande (en pixels).")
                picture.thumbnail((SIDE, SIDE))
                small = picture.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):  # fmt: skip
        raise InvalidInput(f"{source.name} n'est pas une image lisible.") from None
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    name = f"{hashlib.sha256(png).hexdigest()[:24]}.png"
    folder = private_dir(images_dir())
    target = folder / name
    if not target.exists():
        write_private_bytes(target, png)
    return name
