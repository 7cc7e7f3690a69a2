import unittest
from decimal import Decimal

from ledger import parse_amount


class ParseAmountHiddenTest(unittest.TestCase):
    def test_surrounding_spaces(self):
        self.assertEqual(parse_amount("  $1,000.00 "), Decimal("1000.00"))

    def test_negative_with_dollar_sign(self):
        self.assertEqual(parse_amount("($3.50)"), Decimal("-3.50"))
        self.assertEqual(parse_amount("( $ 1,200 )"), Decimal("-1200"))

    def test_minus_sign_still_works(self):
        self.assertEqual(parse_amount("-7"), Decimal("-7"))
