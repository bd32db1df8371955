"""Comptoir: point of sale and invoicing for small French businesses."""

__version__ = "0.1.0"
APP_NAME = "Comptoir"
