"""Printed documents: receipts, invoices and Z reports."""
