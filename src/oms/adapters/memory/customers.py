"""Customers in memory, matched per tenant by (already normalised) email
(``CustomerRepository``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.ids import new_id
from oms.services.ports import CustomerRecord, CustomerTally

__all__ = ["MemoryCustomerRepository"]


class MemoryCustomerRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def _by_email(self, tenant_id: UUID, email: str) -> CustomerRecord | None:
        return next(
            (
                c
                for (t, _), c in self._session.tables.customers.items()
                if t == tenant_id and c.email == email
            ),
            None,
        )

    def _count(self, tenant_id: UUID, tally: CustomerTally) -> CustomerRecord:
        """Insert the customer with ``tally.orders`` orders, or count them on top: the latest
        name and phone given win, the first order's time stays."""
        stored = self._by_email(tenant_id, tally.email)
        if stored is None:
            after = CustomerRecord(
                id=tally.id,
                email=tally.email,
                name=tally.name,
                phone=tally.phone,
                orders_count=tally.orders,
                first_order_at=tally.first_order_at,
                last_order_at=tally.last_order_at,
                created_at=tally.first_order_at,
            )
        else:
            after = replace(
                stored,
                orders_count=stored.orders_count + tally.orders,
                first_order_at=stored.first_order_at or tally.first_order_at,
                last_order_at=tally.last_order_at,
                name=tally.name if tally.name is not None else stored.name,
                phone=tally.phone if tally.phone is not None else stored.phone,
            )
        self._session.write().customers[(tenant_id, after.id)] = after
        return after

    def record_order(
        self, tenant_id: UUID, *, email: str, name: str | None, phone: str | None, at: datetime
    ) -> CustomerRecord:
        """Count one more order for ``email`` (created on first sight); the customer as it
        was *before* this order (``orders_count == 0``: a new customer)."""
        after = self._count(
            tenant_id,
            CustomerTally(
                id=new_id(),
                email=email,
                name=name,
                phone=phone,
                orders=1,
                first_order_at=at,
                last_order_at=at,
            ),
        )
        return replace(
            after,
            orders_count=after.orders_count - 1,
            first_order_at=after.first_order_at if after.orders_count > 1 else None,
        )

    def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> dict[str, CustomerRecord]:
        wanted = set(emails)
        return {
            c.email: c
            for (t, _), c in self._session.tables.customers.items()
            if t == tenant_id and c.email in wanted
        }

    def record_orders(self, tenant_id: UUID, tallies: Sequence[CustomerTally]) -> dict[str, UUID]:
        """``record_order`` for several customers, each ``tally.orders`` times, in email
        order; each customer's id by email (a stored one keeps its id). An email given
        twice is refused, as PostgreSQL refuses it (SQLite would add both up)."""
        if len({t.email for t in tallies}) != len(tallies):
            raise ValueError("each customer may be counted once per call")
        return {
            t.email: self._count(tenant_id, t).id for t in sorted(tallies, key=lambda t: t.email)
        }

    def get(self, tenant_id: UUID, customer_id: UUID) -> CustomerRecord | None:
        return self._session.tables.customers.get((tenant_id, customer_id))

    def page(
        self, tenant_id: UUID, *, email: str | None, after_id: UUID | None, limit: int
    ) -> list[CustomerRecord]:
        found = [
            c
            for (t, _), c in self._session.tables.customers.items()
            if t == tenant_id
            and (email is None or c.email == email)
            and (after_id is None or c.id > after_id)
        ]
        return sorted(found, key=lambda c: c.id)[:limit]
