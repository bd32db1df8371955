"""Plain values every layer may use: money in cents, VAT rates, French display."""
