"""Store credit in memory (``StoreCreditRepository``): the ledger and its balances, which,
as the SQL table's check says, never go below zero."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.services.store_credit import StoreCreditEntry

__all__ = ["MemoryStoreCreditRepository"]

_E4 = Decimal("0.0001")  # the SQL balance is kept in whole ten-thousandths


class MemoryStoreCreditRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def credit(self, entry: StoreCreditEntry) -> None:
        assert entry.amount > 0
        tables = self._session.write()
        account = (entry.tenant_id, entry.customer_id, entry.currency)
        before = tables.store_credit_balances.get(account, Decimal(0))
        tables.store_credit_balances[account] = (before + entry.amount).quantize(_E4)
        tables.store_credit_entries.append(replace(entry))

    def spend(self, entry: StoreCreditEntry) -> bool:
        """The SQL statement's condition: the balance row exists and covers the amount."""
        assert entry.amount < 0
        account = (entry.tenant_id, entry.customer_id, entry.currency)
        before = self._session.tables.store_credit_balances.get(account)
        if before is None or before < -entry.amount:
            return False
        tables = self._session.write()
        tables.store_credit_balances[account] = (before + entry.amount).quantize(_E4)
        tables.store_credit_entries.append(replace(entry))
        return True

    def balances(self, tenant_id: UUID, customer_id: UUID) -> dict[str, Decimal]:
        found = self._session.tables.store_credit_balances.items()
        return {
            currency: balance
            for (t, c, currency), balance in sorted(found, key=lambda item: item[0][2])
            if (t, c) == (tenant_id, customer_id)
        }

    def entries(self, tenant_id: UUID, customer_id: UUID, *, limit: int) -> list[StoreCreditEntry]:
        mine = [
            e
            for e in self._session.tables.store_credit_entries
            if (e.tenant_id, e.customer_id) == (tenant_id, customer_id)
        ]
        mine.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        return [replace(e) for e in mine[:limit]]

    def drift(self, tenant_id: UUID) -> list[tuple[UUID, str, Decimal, Decimal]]:
        tables = self._session.tables
        sums: dict[tuple[UUID, str], Decimal] = {}
        for e in tables.store_credit_entries:
            if e.tenant_id == tenant_id:
                key = (e.customer_id, e.currency)
                sums[key] = sums.get(key, Decimal(0)) + e.amount
        found = []
        for (t, customer_id, currency), balance in tables.store_credit_balances.items():
            if t != tenant_id:
                continue
            total = sums.pop((customer_id, currency), Decimal(0))
            if balance != total or balance < 0:
                found.append((customer_id, currency, balance, total))
        found.extend((c, cur, Decimal(0), total) for (c, cur), total in sums.items())
        return found
