"""Stock levels per SKU."""


class Inventory:
    def __init__(self):
        self._levels = {}
        self._reserved = {}

    def level(self, sku):
        return self._levels.get(sku, 0)

    def add(self, sku, quantity):
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
        self._levels[sku] = self.level(sku) + quantity

    def remove(self, sku, quantity):
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
        if quantity > self.level(sku):
            raise ValueError(f"only {self.level(sku)} of {sku} in stock")
        self._levels[sku] = self.level(sku) - quantity

    def reserve(self, sku, quantity):
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
        free = self.level(sku) - self._reserved.get(sku, 0)
        if quantity > free:
            raise ValueError(f"only {free} of {sku} free to reserve")
        self._reserved[sku] = self._reserved.get(sku, 0) + quantity
