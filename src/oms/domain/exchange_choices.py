"""What a returned line may be exchanged for on the order status page.

The catalogue has no variants: a shop groups the sizes and colours of one item by its
``category`` (what shop imports fill from Shopify's product type). So a returned line may be
exchanged for any product of the shop sold now in the returned product's category, itself
included (the same item again, for a faulty one); an uncategorised product only for itself.
Only products that ship (physical and bundles, not digital) priced in the order's currency are
offered. Each choice says whether it can be had now: in stock, backordered (when the shop's
``exchange_out_of_stock`` policy backorders) or out of stock (the policy refuses: shown, not
selectable). The stock is a hint read with the page; the request reserves under the order's
lock and says so when the stock went meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from oms.domain.catalogue import Product, ProductKind
from oms.domain.returns import ExchangeShortage

__all__ = [
    "CHOICES_PER_LINE",
    "EXCHANGE_KINDS",
    "ExchangeChoice",
    "StockHint",
    "exchange_choices",
    "may_replace",
]

EXCHANGE_KINDS = (ProductKind.PHYSICAL, ProductKind.BUNDLE)
CHOICES_PER_LINE = 100  # a select beyond this is no help; names sort the ones shown


class StockHint(StrEnum):
    IN_STOCK = "in_stock"
    BACKORDER = "backorder"  # none now; the policy backorders it
    OUT_OF_STOCK = "out_of_stock"  # none now; the policy refuses it


@dataclass(frozen=True)
class ExchangeChoice:
    """One product a returned line may be exchanged for, with its price and stock hint."""

    sku: str
    name: str
    price: Decimal
    currency: str
    stock: StockHint

    @property
    def selectable(self) -> bool:
        """Whether asking for it can succeed as the stock stands."""
        return self.stock is not StockHint.OUT_OF_STOCK


def may_replace(returned: Product, candidate: Product, *, currency: str) -> bool:
    """Whether ``candidate`` may be sent instead of ``returned`` for an order in
    ``currency``: sold now, ships, priced in the currency, and the same category (or the
    same product, when uncategorised)."""
    if candidate.archived or candidate.kind not in EXCHANGE_KINDS:
        return False
    if candidate.currency != currency or candidate.tenant_id != returned.tenant_id:
        return False
    if returned.category is None:
        return candidate.sku == returned.sku
    return candidate.category == returned.category


def exchange_choices(
    returned: Product | None,
    candidates: Iterable[Product],
    *,
    currency: str,
    available: Mapping[str, int],
    shortage: ExchangeShortage,
) -> tuple[ExchangeChoice, ...]:
    """The choices for a line of ``returned`` (None: no longer in the catalogue, nothing to
    offer) among ``candidates``, by name; ``available`` units per SKU now."""
    if returned is None:
        return ()
    backorders = shortage is ExchangeShortage.BACKORDER
    empty = StockHint.BACKORDER if backorders else StockHint.OUT_OF_STOCK
    seen: set[str] = set()
    found: list[ExchangeChoice] = []
    for product in sorted(candidates, key=lambda p: (p.name.casefold(), p.sku)):
        if product.sku in seen or not may_replace(returned, product, currency=currency):
            continue
        seen.add(product.sku)
        stock = StockHint.IN_STOCK if available.get(product.sku, 0) > 0 else empty
        found.append(ExchangeChoice(product.sku, product.name, product.price, currency, stock))
    return tuple(found[:CHOICES_PER_LINE])
