"""Billing's reads in SQL: price lists, and a month of ledger and shipments aggregated.

Storage is the heavy part: a month over a million movements. One statement computes it in
the database (``_STORAGE``), by the rule of ``oms.domain.billing.storage_usage`` (which the
tests hold it to): the movements per stock row and UTC day index (-1 for everything before
the month: the opening), a running sum over them (the on hand after each day with a
change) and the next such day (``LEAD``) make each stretch of constant on hand; unit-days
are on hand x the stretch's days, and a bin's days are the union of the stretches of its
SKUs with stock, each stretch adding what reaches past the latest end before it (a running
``MAX`` over the bin's stretches in order). Only a row per location leaves the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Uuid,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    text,
)

from oms.adapters.db.tables import (
    billing_price_lists,
    fulfillment_orders,
    inventory_movements,
    shipments,
)
from oms.domain.billing import PriceList, StorageBasis, StorageRate
from oms.domain.inventory import MovementKind
from oms.services.billing import ReceivingTally, ShippedWork

__all__ = ["SqlBillingRepository", "price_list_body", "price_list_from_body"]

_m = inventory_movements.c

# The UTC day index of a movement from the month's first day (-1 before it), per dialect:
# PostgreSQL subtracts dates; SQLite keeps UTC timestamps as ISO text. SKUs and bins are
# sorted byte by byte (the sorts are the statement's cost; SQLite's default already is).
_DAY_INDEX = {
    "postgresql": "CASE WHEN m.created_at < :start THEN -1 "
    "ELSE (timezone('UTC', m.created_at))::date - CAST(:start_day AS date) END",
    "sqlite": "CASE WHEN m.created_at < :start THEN -1 "
    "ELSE CAST(julianday(substr(m.created_at, 1, 10)) - julianday(:start_day) AS INTEGER) END",
}
_BYTEWISE = {"postgresql": ' COLLATE "C"', "sqlite": ""}
_STORAGE = """
WITH per_day AS (
    SELECT m.sku{bytewise} AS sku, m.location_id, {day} AS d, SUM(m.quantity) AS q
    FROM inventory_movements m
    WHERE m.tenant_id = :tenant AND m.location_id IN :locations AND m.created_at < :end
    GROUP BY m.sku{bytewise}, m.location_id, {day}
), stretches AS (
    SELECT sku, location_id,
           CASE WHEN d < 0 THEN 0 ELSE d END AS first,
           LEAD(d, 1, :days) OVER w AS stop,
           SUM(q) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS units
    FROM per_day
    WINDOW w AS (PARTITION BY sku, location_id ORDER BY d)
), stocked AS (
    SELECT s.location_id, s.first, s.stop, s.units,
           COALESCE(b.bin, :no_bin || s.sku){bytewise} AS bin_key
    FROM stretches s
    LEFT JOIN product_bins b
      ON b.tenant_id = :tenant AND b.sku = s.sku AND b.location_id = s.location_id
    WHERE s.units > 0 AND s.stop > s.first
), reached AS (
    SELECT location_id, first, stop, units,
           COALESCE(MAX(stop) OVER (
               PARTITION BY location_id, bin_key ORDER BY first, stop
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS reach
    FROM stocked
)
SELECT location_id,
       SUM(units * (stop - first)) AS unit_days,
       SUM(CASE WHEN stop <= reach THEN 0
                WHEN first >= reach THEN stop - first
                ELSE stop - reach END) AS bin_days
FROM reached
GROUP BY location_id
"""


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

    def storage_usage(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, days: int
    ) -> dict[UUID, tuple[int, int]]:
        if not location_ids or days <= 0:
            return {}
        self._prepare()
        dialect = "postgresql" if self._postgres else "sqlite"
        query = (
            text(_STORAGE.format(day=_DAY_INDEX[dialect], bytewise=_BYTEWISE[dialect]))
            .bindparams(
                bindparam("tenant", type_=Uuid),
                bindparam("locations", type_=Uuid, expanding=True),
                bindparam("start", type_=inventory_movements.c.created_at.type),
                bindparam("end", type_=inventory_movements.c.created_at.type),
            )
            .columns(column("location_id", Uuid), column("unit_days"), column("bin_days"))
        )
        rows = self._conn.execute(
            query,
            {
                "tenant": tenant_id,
                "locations": list(location_ids),
                "start": start,
                "end": start + timedelta(days=days),
                "start_day": start.date().isoformat(),
                "days": days,
                "no_bin": "\x1f",  # a SKU with no bin is a bin of its own
            },
        )
        return {loc: (int(unit_days or 0), int(bin_days or 0)) for loc, unit_days, bin_days in rows}

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
