"""Billing's reads in SQL: price lists, and a month of ledger and shipments aggregated.

Storage is the heavy part: a month over a million movements. The database sums the
movements before the month per stock row, and those in the month per stock row and UTC day;
Python then walks each row's days with a change (``oms.domain.billing.storage_usage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Date,
    cast,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from oms.adapters.db.tables import (
    billing_price_lists,
    fulfillment_orders,
    inventory_movements,
    product_bins,
    shipments,
)
from oms.domain.billing import PriceList, StorageBasis, StorageRate, storage_usage
from oms.domain.inventory import MovementKind
from oms.services.billing import ReceivingTally, ShippedWork

__all__ = ["SqlBillingRepository", "price_list_body", "price_list_from_body"]

_m = inventory_movements.c


def price_list_body(prices: PriceList) -> dict[str, Any]:
    """The JSON a price list is stored as: amounts as decimal strings."""
    return {
        "currency": prices.currency,
        "storage": [
            {"location": s.location, "basis": s.basis.value, "rate": str(s.rate)}
            for s in prices.storage
        ],
        **{
            name: str(getattr(prices, name))
            for name in (
                "receiving_per_receipt",
                "receiving_per_line",
                "receiving_per_unit",
                "pick_per_order",
                "pick_per_line",
                "pick_per_unit",
                "per_package",
                "label_markup_percent",
            )
        },
        "special_handling": {k: str(v) for k, v in prices.special_handling.items()},
    }


def price_list_from_body(body: dict[str, Any]) -> PriceList:
    plain = {
        k: Decimal(v)
        for k, v in body.items()
        if k not in {"currency", "storage", "special_handling"}
    }
    return PriceList(
        currency=body["currency"],
        storage=tuple(
            StorageRate(s["location"], StorageBasis(s["basis"]), Decimal(s["rate"]))
            for s in body.get("storage", [])
        ),
        special_handling={k: Decimal(v) for k, v in body.get("special_handling", {}).items()},
        **plain,
    )


class SqlBillingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def price_list(self, tenant_id: UUID) -> PriceList | None:
        body = self._conn.execute(
            select(billing_price_lists.c.body).where(billing_price_lists.c.tenant_id == tenant_id)
        ).scalar_one_or_none()
        return None if body is None else price_list_from_body(body)

    def save_price_list(
        self, tenant_id: UUID, prices: PriceList, *, actor: str, at: datetime
    ) -> None:
        # Replaced whole; the operator alone writes it, so no race worth a dialect's upsert.
        self._conn.execute(
            delete(billing_price_lists).where(billing_price_lists.c.tenant_id == tenant_id)
        )
        self._conn.execute(
            insert(billing_price_lists).values(
                {
                    "tenant_id": tenant_id,
                    "currency": prices.currency,
                    "body": price_list_body(prices),
                    "updated_by": actor,
                    "updated_at": at,
                }
            )
        )

    def _prepare(self) -> None:
        if self._postgres:
            # A month's aggregate is one big scan: JIT compiling it costs more than it saves.
            self._conn.execute(text("SET LOCAL jit = off"))
            # A month's rows per SKU, location and day are sorted and joined in memory.
            self._conn.execute(text("SET LOCAL work_mem = '64MB'"))

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC day of a timestamp: a date on PostgreSQL, ISO text on SQLite (which stores
        UTC timestamps as ISO text)."""
        if self._postgres:
            return cast(func.timezone("UTC", column), Date)
        return func.substr(column, 1, 10)

    def storage_usage(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, days: int
    ) -> dict[UUID, tuple[int, int]]:
        if not location_ids or days <= 0:
            return {}
        self._prepare()
        end = start + timedelta(days=days)
        scope = (_m.tenant_id == tenant_id, _m.location_id.in_(location_ids))
        opening = {
            (sku, loc): int(total)
            for sku, loc, total in self._conn.execute(
                select(_m.sku, _m.location_id, func.sum(_m.quantity))
                .where(*scope, _m.created_at < start)
                .group_by(_m.sku, _m.location_id)
            )
            if total
        }
        day = self._day(_m.created_at).label("day")
        changes = {
            (sku, loc, d if isinstance(d, date) else date.fromisoformat(str(d))): int(total)
            for sku, loc, d, total in self._conn.execute(
                select(_m.sku, _m.location_id, day, func.sum(_m.quantity))
                .where(*scope, _m.created_at >= start, _m.created_at < end)
                .group_by(_m.sku, _m.location_id, day)
            )
        }
        b = product_bins.c
        bins = {
            (sku, loc): name
            for sku, loc, name in self._conn.execute(
                select(b.sku, b.location_id, b.bin).where(
                    b.tenant_id == tenant_id, b.location_id.in_(location_ids)
                )
            )
        }
        calendar = [(start + timedelta(days=n)).date() for n in range(days)]
        return storage_usage(days=calendar, opening=opening, deltas=changes, bins=bins)

    def receiving(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> ReceivingTally:
        if not location_ids:
            return ReceivingTally(0, 0, 0)
        received = (
            select(
                _m.reference.label("reference"),
                _m.sku,
                _m.location_id,
                func.sum(_m.quantity).label("units"),
            )
            .where(
                _m.tenant_id == tenant_id,
                _m.kind == MovementKind.RECEIPT.value,
                _m.quantity > 0,
                _m.created_at >= start,
                _m.created_at < end,
                _m.location_id.in_(location_ids),
            )
            .group_by(_m.reference, _m.sku, _m.location_id)
            .subquery()
        )
        lines, units, receipts = self._conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(received.c.units), 0),
                func.count(func.distinct(received.c.reference)),
            )
        ).one()
        return ReceivingTally(receipts=int(receipts), lines=int(lines), units=int(units))

    def shipped(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[ShippedWork]:
        if not location_ids:
            return []
        s, fo = shipments.c, fulfillment_orders.c
        rows = self._conn.execute(
            select(s.fulfillment_order_id, s.contents, s.package_ids, s.cost, s.currency)
            .join(
                fulfillment_orders,
                (fo.tenant_id == s.tenant_id) & (fo.id == s.fulfillment_order_id),
            )
            .where(
                s.tenant_id == tenant_id,
                s.created_at >= start,
                s.created_at < end,
                fo.location_id.in_(location_ids),
            )
        )
        return [
            ShippedWork(
                fulfillment_order_id=row.fulfillment_order_id,
                contents=tuple((item["sku"], int(item["quantity"])) for item in row.contents),
                packages=len(row.package_ids),
                cost=row.cost,
                currency=row.currency,
            )
            for row in rows
        ]
