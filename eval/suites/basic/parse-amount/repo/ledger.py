"""Amounts from the bank's CSV export."""
from decimal import Decimal


def parse_amount(text):
    """An amount as the export writes it, e.g. "1,234.50", "$5", "(12.00)" for -12.00."""
    return Decimal(text)


def total(amounts):
    return sum((parse_amount(amount) for amount in amounts), Decimal("0"))
