"""Products (bundles included) in memory (``CatalogueRepository``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.catalogue import Product, ProductKind

__all__ = ["MemoryProductRepository"]


class MemoryProductRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, product: Product) -> bool:
        """Keep the product; False (and nothing kept) when its id or its SKU is taken."""
        return bool(self.add_many([product]))

    def add_many(self, new: Sequence[Product]) -> set[str]:
        """``add`` for each product; the SKUs that were added."""
        if not new:
            return set()
        stored = self._session.write().products
        added: set[str] = set()
        taken = {(p.tenant_id, p.sku) for p in stored.values()}
        for product in new:
            if (product.tenant_id, product.id) in stored or (
                product.tenant_id,
                product.sku,
            ) in taken:
                continue
            stored[(product.tenant_id, product.id)] = copy.deepcopy(product)
            taken.add((product.tenant_id, product.sku))
            added.add(product.sku)
        return added

    def update(self, product: Product) -> None:
        """Write what an edit may change: never the tenant, id, SKU, kind, components or
        creation time."""
        key = (product.tenant_id, product.id)
        stored = self._session.tables.products.get(key)
        if stored is None:
            return
        self._session.write().products[key] = replace(
            copy.deepcopy(product),
            sku=stored.sku,
            kind=stored.kind,
            components=stored.components,
            created_at=stored.created_at,
        )

    def get(self, tenant_id: UUID, product_id: UUID, *, for_update: bool = False) -> Product | None:
        found = self._session.tables.products.get((tenant_id, product_id))
        return None if found is None else copy.deepcopy(found)

    def by_skus(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, Product]:
        wanted = set(skus)
        return {
            p.sku: copy.deepcopy(p)
            for (tenant, _), p in self._session.tables.products.items()
            if tenant == tenant_id and p.sku in wanted
        }

    def page(
        self,
        tenant_id: UUID,
        *,
        after_sku: str | None,
        limit: int,
        archived: bool | None = None,
    ) -> list[Product]:
        found = [
            p
            for (tenant, _), p in self._session.tables.products.items()
            if tenant == tenant_id
            and (after_sku is None or p.sku > after_sku)
            and (archived is None or (p.archived_at is not None) == archived)
        ]
        found.sort(key=lambda p: p.sku)
        return [copy.deepcopy(p) for p in found[:limit]]

    def on_sale_in_category(
        self,
        tenant_id: UUID,
        category: str,
        *,
        kinds: Iterable[ProductKind],
        currency: str,
        limit: int,
    ) -> list[Product]:
        wanted = set(kinds)
        found = [
            p
            for (tenant, _), p in self._session.tables.products.items()
            if tenant == tenant_id
            and p.category == category
            and p.archived_at is None
            and p.kind in wanted
            and p.currency == currency
        ]
        found.sort(key=lambda p: p.sku)
        return [copy.deepcopy(p) for p in found[:limit]]
