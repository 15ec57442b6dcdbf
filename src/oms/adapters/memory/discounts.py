"""Discount codes and their usage counters in memory (``DiscountRepository``).

``redeem`` counts as the SQL statements do, one limit after the other: the code's total
first, then the customer's; a use refused by the customer's limit has still counted the
total (the caller's transaction is rolled back then, as on SQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.pricing import DiscountCode

__all__ = ["MemoryDiscountRepository"]


class MemoryDiscountRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, tenant_id: UUID, code: DiscountCode, at: datetime) -> bool:
        """Keep the code; False when its id or its code is taken in the tenant."""
        stored = self._session.tables.discounts
        if (tenant_id, code.id) in stored or any(
            t == tenant_id and c.code == code.code for (t, _), (c, _) in stored.items()
        ):
            return False
        if code.usage_limit is not None and code.times_used > code.usage_limit:
            raise ValueError("times_used beyond usage_limit breaks the table's constraint")
        self._session.write().discounts[(tenant_id, code.id)] = (code, at)
        return True

    def get(self, tenant_id: UUID, code_id: UUID) -> DiscountCode | None:
        found = self._session.tables.discounts.get((tenant_id, code_id))
        return None if found is None else found[0]

    def _codes(self, tenant_id: UUID) -> list[DiscountCode]:
        return [c for (t, _), (c, _) in self._session.tables.discounts.items() if t == tenant_id]

    def by_codes(self, tenant_id: UUID, codes: Iterable[str]) -> dict[str, DiscountCode]:
        wanted = set(codes)
        return {c.code: c for c in self._codes(tenant_id) if c.code in wanted}

    def page(self, tenant_id: UUID, *, after_code: str | None, limit: int) -> list[DiscountCode]:
        found = [c for c in self._codes(tenant_id) if after_code is None or c.code > after_code]
        return sorted(found, key=lambda c: c.code)[:limit]

    def redeem(
        self, tenant_id: UUID, code: DiscountCode, *, customer_email: str | None
    ) -> str | None:
        """Count one use; the reason it cannot be used, or None when counted."""
        found = self._session.tables.discounts.get((tenant_id, code.id))
        if found is None:
            return "used up"
        stored, created_at = found
        if stored.usage_limit is not None and stored.times_used >= stored.usage_limit:
            return "used up"
        tables = self._session.write()
        tables.discounts[(tenant_id, code.id)] = (
            replace(stored, times_used=stored.times_used + 1),
            created_at,
        )
        if code.per_customer_limit is None:
            return None
        if customer_email is None:
            return "limited per customer, and the order has no customer email"
        key = (tenant_id, code.id, customer_email)
        uses = tables.discount_usages.setdefault(key, 0)
        if uses >= code.per_customer_limit:
            return "already used by this customer"
        tables.discount_usages[key] = uses + 1
        return None
