import unittest
from decimal import Decimal

from ledger import parse_amount, total


class ParseAmountTest(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(parse_amount("12.50"), Decimal("12.50"))

    def test_thousands_separators(self):
        self.assertEqual(parse_amount("1,234.50"), Decimal("1234.50"))

    def test_dollar_sign(self):
        self.assertEqual(parse_amount("$ 5"), Decimal("5"))

    def test_parentheses_are_negative(self):
        self.assertEqual(parse_amount("(12.00)"), Decimal("-12.00"))

    def test_total(self):
        self.assertEqual(total(["1,000.00", "(250.50)", "$10"]), Decimal("759.50"))
