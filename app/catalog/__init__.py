"""Products, categories and barcodes."""
