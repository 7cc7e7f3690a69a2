import unittest

from inventory import Inventory, _check_quantity


class CheckQuantityHiddenTest(unittest.TestCase):
    def test_messages_unchanged(self):
        for bad, shown in ((True, "True"), (1.5, "1.5"), ("3", "'3'"), (-1, "-1")):
            with self.assertRaises(ValueError) as raised:
                _check_quantity(bad)
            self.assertEqual(str(raised.exception), f"quantity must be a positive integer, got {shown}")

    def test_every_method_still_checks(self):
        inventory = Inventory()
        for method in (inventory.add, inventory.remove, inventory.reserve):
            with self.assertRaises(ValueError):
                method("tea", False)
