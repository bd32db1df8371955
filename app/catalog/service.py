"""Catalog services: products, categories, barcode lookup (scale barcodes included)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import ean as stdnum_ean

from app.catalog.images import store_image
from app.catalog.models import Category, Product
from app.catalog.nature import check_nature
from app.errors import InvalidInput
from app.ledger.events import EventCode, log_event
from app.ledger.operators import Permission, require
from app.sales.cart import CartLine
from app.values.money import check_cents
from app.values.text import validate_label
from app.values.vat import check_rate_bp

DEMO_CATALOG = Path(__file__).resolve().parent.parent.parent / "resources" / "demo" / "catalog.csv"
SCALE_PREFIXES = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29")


@dataclass(frozen=True)
class ProductInfo:
    id: int
    name: str
    ean: str | None
    category: str | None
    price_cents: int
    vat_rate_bp: int
    weighed: bool
    open_price: bool
    active: bool
    nature: str | None = None  # None: the default for the VAT rate (nature.default_nature)
    image: str | None = None  # the tile's picture (images.image_path)


@dataclass(frozen=True)
class Scan:
    """What a scanned code means: a product, and for a scale label its weight."""

    product: ProductInfo
    quantity: Decimal

    def line(self, price_cents: int | None = None) -> CartLine:
        return CartLine(
            self.product.name,
            self.product.price_cents if price_cents is None else price_cents,
            self.quantity,
            self.product.vat_rate_bp,
            ean=self.product.ean,
            product_id=self.product.id,
            weighed=self.product.weighed,
        )


def _info(product: Product, category: str | None) -> ProductInfo:
    return ProductInfo(
        product.id,
        product.name,
        product.ean,
        category,
        product.price_cents,
        product.vat_rate_bp,
        product.weighed,
        product.open_price,
        product.active,
        product.nature,
        product.image,
    )


def check_ean(code: str) -> str:
    """A valid EAN-8/EAN-13 (check digit verified), or InvalidInput."""
    code = (code or "").strip()
    if not (code.isascii() and code.isdigit() and len(code) in (8, 13)):
        raise InvalidInput(f"Code-barres invalide : « {code[:20]} » (8 ou 13 chiffres).")
    if not stdnum_ean.is_valid(code):
        raise InvalidInput(f"Code-barres invalide : « {code} » (clé de contrôle erronée).")
    return code


def scale_item_code(code: str) -> str:
    """The catalog EAN a scale label refers to: 2x + item code, weight digits zeroed."""
    base = code[:7] + "00000"
    return base + stdnum_ean.calc_check_digit(base)


def lookup_barcode(session: Session, raw: str) -> Scan:
    """Resolve a scanned code; scale labels (prefix 2x) carry the weight in grams."""
    code = check_ean(raw)
    row = session.execute(
        select(Product, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.ean == code, Product.active.is_(True))
    ).first()
    if row is not None:
        return Scan(_info(*row), Decimal(1))
    if len(code) == 13 and code[:2] in SCALE_PREFIXES:
        row = session.execute(
            select(Product, Category.name)
            .outerjoin(Category, Category.id == Product.category_id)
            .where(
                Product.ean == scale_item_code(code),
                Product.active.is_(True),
                Product.weighed.is_(True),
            )
        ).first()
        if row is not None:
            grams = int(code[7:12])
            if grams == 0:
                raise InvalidInput("Étiquette de balance sans poids.")
            return Scan(_info(*row), Decimal(grams) / 1000)
    raise InvalidInput(f"Article inconnu : aucun produit n'a le code-barres {code}.")


def search_products(session: Session, text: str, *, limit: int = 50) -> list[ProductInfo]:
    query = (
        select(Product, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.active.is_(True))
    )
    text = text.strip()
    if text:
        query = query.where(func.lower(Product.name).contains(text.lower()) | (Product.ean == text))
    rows = session.execute(query.order_by(Product.name).limit(limit)).all()
    return [_info(*row) for row in rows]


def all_products(session: Session) -> list[ProductInfo]:
    """Every product, inactive ones included: a withdrawn product must stay reachable
    to be put back on sale."""
    rows = session.execute(
        select(Product, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .order_by(Product.name)
    )
    return [_info(product, category) for product, category in rows]


def categories(session: Session) -> list[tuple[int, str, str]]:
    return [
        tuple(r)
        for r in session.execute(
            select(Category.id, Category.name, Category.color).order_by(
                Category.position, Category.name
            )
        )
    ]


def products_in(
    session: Session, category_id: int | None, *, limit: int = 200
) -> list[ProductInfo]:
    query = (
        select(Product, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.active.is_(True))
    )
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    return [_info(*row) for row in session.execute(query.order_by(Product.name).limit(limit))]


def ensure_category(session: Session, name: str) -> int:
    name = validate_label(name)
    found = session.scalar(select(Category.id).where(Category.name == name))
    if found is not None:
        return found
    position = (session.scalar(select(func.max(Category.position))) or 0) + 1
    category = Category(name=name, position=position)
    session.add(category)
    session.flush()
    return category.id


def save_product(
    session: Session,
    *,
    name: str,
    price_cents: int,
    vat_rate_bp: int,
    ean: str | None = None,
    category: str | None = None,
    weighed: bool = False,
    open_price: bool = False,
    active: bool = True,
    product_id: int | None = None,
    operator: str,
    nature: str | None = None,
) -> ProductInfo:
    """Create or update a product after checking every field.

    Changing the VAT rate of an existing product is a fiscal fact: it is journaled."""
    require(session, operator, Permission.EDIT_CATALOG)
    name = validate_label(name)
    check_cents(price_cents, "Prix")
    if price_cents < 0:
        raise InvalidInput("Le prix ne peut pas être négatif.")
    check_rate_bp(vat_rate_bp)
    check_nature(nature)
    ean = check_ean(ean) if ean else None
    if ean:
        clash = session.scalar(select(Product.id).where(Product.ean == ean))
        if clash is not None and clash != product_id:
            raise InvalidInput(f"Le code-barres {ean} est déjà utilisé par un autre article.")
    category_id = ensure_category(session, category) if category else None
    product = session.get(Product, product_id) if product_id else Product()
    if product is None:
        raise InvalidInput("Article introuvable.")
    if product.id is not None and product.vat_rate_bp != vat_rate_bp:
        log_event(
            session,
            EventCode.VAT_RATE_CHANGE,
            operator=operator,
            product_id=product.id,
            product=product.name,
            old_rate=product.vat_rate_bp,
            new_rate=vat_rate_bp,
        )
    product.name, product.ean, product.category_id = name, ean, category_id
    product.price_cents, product.vat_rate_bp = price_cents, vat_rate_bp
    product.weighed, product.open_price, product.active = weighed, open_price, active
    product.nature = nature
    session.add(product)
    session.flush()
    return _info(product, category)


def set_product_image(
    session: Session, product_id: int, source: Path | None, *, operator: str
) -> ProductInfo:
    """Give the product the picture in ``source`` (checked and reduced, see
    ``images.store_image``), or take its picture away (``None``)."""
    require(session, operator, Permission.EDIT_CATALOG)
    product = session.get(Product, product_id)
    if product is None:
        raise InvalidInput("Article introuvable.")
    product.image = store_image(source) if source is not None else None
    session.flush()
    category = session.get(Category, product.category_id) if product.category_id else None
    return _info(product, category.name if category else None)


def load_demo_catalog(session: Session, *, operator: str, path: Path = DEMO_CATALOG) -> int:
    """Load the demo catalog (skipping codes already present); returns products added."""
    added = 0
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if session.scalar(select(Product.id).where(Product.ean == row["ean"])):
                continue
            save_product(
                session,
                name=row["name"],
                price_cents=int(row["price_cents"]),
                vat_rate_bp=int(row["vat_rate_bp"]),
                ean=row["ean"],
                category=row["category"],
                weighed=row["weighed"] == "1",
                operator=operator,
            )
            added += 1
    return added
