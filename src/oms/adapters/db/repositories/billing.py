"""Billing's reads in SQL: price lists, and a month of ledger and shipments aggregated.

Storage is the heavy part: a month over a million movements. The database sums the
movements before the month per stock row, and those in the month per stock row and UTC day;
Python only walks the (few) rows and days (``oms.domain.billing.storage_usage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Date, cast, delete, func, insert, select, text
from sqlalchemy.sql.elements import ColumnElement

from oms.adapters.db.tables import (
    billing_price_lists,
    fulfillment_orders,
    inventory_movements,
    product_bins,
    shipments,
)
from oms.domain.billing import PriceList, StorageBasis, StorageRate
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

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC day of a timestamp: a date on PostgreSQL, ISO text on SQLite (which stores
        UTC timestamps as ISO text)."""
        if self._postgres:
            return cast(func.timezone("UTC", column), Date)
        return func.substr(column, 1, 10)

    def _prepare(self) -> None:
        if self._postgres:
            # A month's aggregate is one big scan: JIT compiling it costs more than it saves.
            self._conn.execute(text("SET LOCAL jit = off"))

    def opening_stock(
        self, tenant_id: UUID, location_ids: Sequence[UUID], before: datetime
    ) -> dict[tuple[str, UUID], int]:
        if not location_ids:
            return {}
        self._prepare()
        rows = self._conn.execute(
            select(_m.sku, _m.location_id, func.sum(_m.quantity))
            .where(
                _m.tenant_id == tenant_id,
                _m.created_at < before,
                _m.location_id.in_(location_ids),
            )
            .group_by(_m.sku, _m.location_id)
        )
        return {(sku, loc): int(total) for sku, loc, total in rows if total}

    def daily_stock_changes(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> dict[tuple[str, UUID, date], int]:
        if not location_ids:
            return {}
        self._prepare()
        day = self._day(_m.created_at).label("day")
        rows = self._conn.execute(
            select(_m.sku, _m.location_id, day, func.sum(_m.quantity))
            .where(
                _m.tenant_id == tenant_id,
                _m.created_at >= start,
                _m.created_at < end,
                _m.location_id.in_(location_ids),
            )
            .group_by(_m.sku, _m.location_id, day)
        )
        return {
            (sku, loc, d if isinstance(d, date) else date.fromisoformat(str(d))): int(total)
            for sku, loc, d, total in rows
        }

    def bins(self, tenant_id: UUID, location_ids: Sequence[UUID]) -> dict[tuple[str, UUID], str]:
        if not location_ids:
            return {}
        b = product_bins.c
        rows = self._conn.execute(
            select(b.sku, b.location_id, b.bin).where(
                b.tenant_id == tenant_id, b.location_id.in_(location_ids)
            )
        )
        return {(sku, loc): name for sku, loc, name in rows}

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
