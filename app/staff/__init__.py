"""Operators, their roles and PINs."""
