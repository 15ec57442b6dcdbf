"""Billing's reads in SQL: price lists, and a month of ledger and shipments aggregated.

Storage is the heavy part: a month over a million movements. The database sums the
movements before the month per stock row, and those in the month per stock row and UTC day;
Python only walks the (few) rows and days (``oms.domain.billing.storage_usage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union,
    union_all,
)
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

    def _prepare(self) -> None:
        if self._postgres:
            # A month's aggregate is one big scan: JIT compiling it costs more than it saves.
            self._conn.execute(text("SET LOCAL jit = off"))
            # A month's rows per SKU, location and day are sorted and joined in memory.
            self._conn.execute(text("SET LOCAL work_mem = '64MB'"))

    def _day_index(self, column: Any, start: datetime) -> ColumnElement[int]:
        """Whole UTC days from ``start`` to a timestamp at or after it (0 on the first day)."""
        if self._postgres:
            seconds = func.extract("epoch", column - start)
            return cast(func.floor(seconds / 86400), Integer)
        # SQLite stores UTC timestamps as ISO text; julianday reads it.
        naive = start.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return cast(func.julianday(column) - func.julianday(naive), Integer)

    def storage_usage(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, days: int
    ) -> dict[UUID, tuple[int, int]]:
        if not location_ids or days <= 0:
            return {}
        self._prepare()
        end = start + timedelta(days=days)
        scope = (_m.tenant_id == tenant_id, _m.location_id.in_(location_ids))
        opening = (
            select(_m.sku, _m.location_id, func.sum(_m.quantity).label("q"))
            .where(*scope, _m.created_at < start)
            .group_by(_m.sku, _m.location_id)
            .cte("opening")
        )
        day = self._day_index(_m.created_at, start)
        changes = (
            select(_m.sku, _m.location_id, day.label("d"), func.sum(_m.quantity).label("q"))
            .where(*scope, _m.created_at >= start, _m.created_at < end)
            .group_by(_m.sku, _m.location_id, day)
            .cte("changes")
        )
        rows = union(
            select(opening.c.sku, opening.c.location_id),
            select(changes.c.sku, changes.c.location_id),
        ).cte("stock_rows")
        calendar = union_all(*(select(literal(n, Integer).label("d")) for n in range(days))).cte(
            "calendar"
        )
        # Each stock row's on hand at the end of each day: the opening plus a running sum.
        running = func.sum(func.coalesce(changes.c.q, 0)).over(
            partition_by=(rows.c.sku, rows.c.location_id), order_by=calendar.c.d
        )
        b = product_bins.c
        daily = (
            select(
                rows.c.location_id,
                rows.c.sku,
                calendar.c.d,
                (func.coalesce(opening.c.q, 0) + running).label("on_hand"),
            )
            .select_from(rows)
            .join(calendar, true())
            .outerjoin(
                changes,
                and_(
                    changes.c.sku == rows.c.sku,
                    changes.c.location_id == rows.c.location_id,
                    changes.c.d == calendar.c.d,
                ),
            )
            .outerjoin(
                opening,
                and_(opening.c.sku == rows.c.sku, opening.c.location_id == rows.c.location_id),
            )
            .cte("daily")
        )
        stocked = (
            select(
                daily.c.location_id,
                daily.c.d,
                daily.c.on_hand,
                # A SKU with no bin is a bin of its own.
                func.coalesce(b.bin, literal("\x1f") + daily.c.sku).label("bin"),
            )
            .select_from(daily)
            .outerjoin(
                product_bins,
                and_(
                    b.tenant_id == tenant_id,
                    b.sku == daily.c.sku,
                    b.location_id == daily.c.location_id,
                ),
            )
            .where(daily.c.on_hand > 0)
            .cte("stocked")
        )
        occupied = select(stocked.c.location_id, stocked.c.bin, stocked.c.d).distinct().subquery()
        unit_days = select(
            stocked.c.location_id, literal("unit").label("what"), func.sum(stocked.c.on_hand)
        ).group_by(stocked.c.location_id)
        bin_days = select(
            occupied.c.location_id, literal("bin").label("what"), func.count()
        ).group_by(occupied.c.location_id)
        found: dict[UUID, list[int]] = {}
        for location_id, what, figure in self._conn.execute(union_all(unit_days, bin_days)):
            pair = found.setdefault(location_id, [0, 0])
            pair[0 if what == "unit" else 1] = int(figure)
        return {loc: (pair[0], pair[1]) for loc, pair in found.items()}

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
