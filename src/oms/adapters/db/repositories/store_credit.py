"""Store credit in SQL: the ledger and its never-negative balances
(``oms.services.store_credit``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import store_credit_balances, store_credit_entries
from oms.services.store_credit import StoreCreditEntry

__all__ = ["SqlStoreCreditRepository"]

_e = store_credit_entries.c
_b = store_credit_balances.c
_E4 = Decimal(10_000)


def _e4(amount: Decimal) -> int:
    """Money as whole ten-thousandths (the balance column), exactly."""
    return int((amount * _E4).to_integral_value())


def _money(e4: int) -> Decimal:
    return (Decimal(e4) / _E4).quantize(Decimal("0.0001"))


def _row(entry: StoreCreditEntry) -> dict[str, Any]:
    return {
        "tenant_id": entry.tenant_id,
        "id": entry.id,
        "customer_id": entry.customer_id,
        "currency": entry.currency,
        "amount": entry.amount,
        "return_id": entry.return_id,
        "order_id": entry.order_id,
        "note": entry.note,
        "created_at": entry.created_at,
        "created_by": entry.created_by,
    }


class SqlStoreCreditRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _account(self, entry: StoreCreditEntry) -> Any:
        return (
            _b.tenant_id == entry.tenant_id,
            _b.customer_id == entry.customer_id,
            _b.currency == entry.currency,
        )

    def credit(self, entry: StoreCreditEntry) -> None:
        assert entry.amount > 0
        fresh = insert_if_absent(
            self._conn,
            store_credit_balances,
            {
                "tenant_id": entry.tenant_id,
                "customer_id": entry.customer_id,
                "currency": entry.currency,
                "balance_e4": _e4(entry.amount),
                "updated_at": entry.created_at,
            },
        )
        if not fresh:
            self._conn.execute(
                update(store_credit_balances)
                .where(*self._account(entry))
                .values(balance_e4=_b.balance_e4 + _e4(entry.amount), updated_at=entry.created_at)
            )
        self._conn.execute(insert(store_credit_entries).values(**_row(entry)))

    def spend(self, entry: StoreCreditEntry) -> bool:
        assert entry.amount < 0
        spent = self._conn.execute(
            update(store_credit_balances)
            .where(*self._account(entry), _b.balance_e4 >= -_e4(entry.amount))
            .values(balance_e4=_b.balance_e4 + _e4(entry.amount), updated_at=entry.created_at)
            .returning(_b.balance_e4)
        ).first()
        if spent is None:
            return False
        self._conn.execute(insert(store_credit_entries).values(**_row(entry)))
        return True

    def balances(self, tenant_id: UUID, customer_id: UUID) -> dict[str, Decimal]:
        rows = self._conn.execute(
            select(_b.currency, _b.balance_e4)
            .where(_b.tenant_id == tenant_id, _b.customer_id == customer_id)
            .order_by(_b.currency)
        )
        return {row.currency: _money(row.balance_e4) for row in rows}

    def entries(self, tenant_id: UUID, customer_id: UUID, *, limit: int) -> list[StoreCreditEntry]:
        rows = self._conn.execute(
            select(store_credit_entries)
            .where(_e.tenant_id == tenant_id, _e.customer_id == customer_id)
            .order_by(_e.created_at.desc(), _e.id.desc())
            .limit(limit)
        )
        return [
            StoreCreditEntry(
                id=row.id,
                tenant_id=row.tenant_id,
                customer_id=row.customer_id,
                currency=row.currency,
                amount=row.amount,
                created_at=row.created_at,
                created_by=row.created_by,
                return_id=row.return_id,
                order_id=row.order_id,
                note=row.note,
            )
            for row in rows
        ]

    def drift(self, tenant_id: UUID) -> list[tuple[UUID, str, Decimal, Decimal]]:
        # Summed here, not in SQL: SQLite keeps money as text and would add it as floats.
        sums: dict[tuple[UUID, str], Decimal] = {}
        for row in self._conn.execute(
            select(_e.customer_id, _e.currency, _e.amount).where(_e.tenant_id == tenant_id)
        ):
            key = (row.customer_id, row.currency)
            sums[key] = sums.get(key, Decimal(0)) + row.amount
        found = []
        for row in self._conn.execute(
            select(_b.customer_id, _b.currency, _b.balance_e4).where(_b.tenant_id == tenant_id)
        ):
            balance = _money(row.balance_e4)
            total = sums.pop((row.customer_id, row.currency), Decimal(0))
            if balance != total or balance < 0:
                found.append((row.customer_id, row.currency, balance, total))
        found.extend((c, cur, Decimal(0), total) for (c, cur), total in sums.items())
        return found
