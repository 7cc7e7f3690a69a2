import unittest

from inventory import Inventory


class InventoryTest(unittest.TestCase):
    def setUp(self):
        self.inventory = Inventory()
        self.inventory.add("tea", 5)

    def test_add_and_remove(self):
        self.inventory.remove("tea", 2)
        self.assertEqual(self.inventory.level("tea"), 3)

    def test_cannot_remove_more_than_stock(self):
        with self.assertRaisesRegex(ValueError, "only 5 of tea in stock"):
            self.inventory.remove("tea", 6)

    def test_reserve_limited_to_free_stock(self):
        self.inventory.reserve("tea", 4)
        with self.assertRaisesRegex(ValueError, "only 1 of tea free to reserve"):
            self.inventory.reserve("tea", 2)

    def test_quantities_must_be_positive_integers(self):
        for method in (self.inventory.add, self.inventory.remove, self.inventory.reserve):
            with self.assertRaisesRegex(ValueError, "quantity must be a positive integer, got 0"):
                method("tea", 0)
