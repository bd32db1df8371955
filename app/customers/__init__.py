"""Customers: companies and private persons, with their identifiers."""
