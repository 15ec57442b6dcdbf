"""Fulfilment orders with their lines, pick waves, bins and packages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.fulfilment_rows import (
    COUNTS,
    counts_of,
    fulfillment_order_from_row,
    header_values,
    line_values,
    package_from_row,
    wave_from_row,
)
from oms.adapters.db.repositories.order_insert import json_rows, select_from_json
from oms.adapters.db.tables import (
    fulfillment_order_lines,
    fulfillment_orders,
    locations,
    packages,
    pick_waves,
    product_bins,
)
from oms.domain.fulfilment import FulfillmentLine, FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.packing import Package
from oms.domain.picking import PickWave
from oms.services.ports import TransientStorageError

__all__ = ["SqlFulfilmentRepository"]

_fo = fulfillment_orders.c
_fl = fulfillment_order_lines.c
# New fulfilment orders and their lines in one statement (the lines' insert sees the
# orders', as the order intake's statement does).
_INSERT_MANY = DriverStatement(
    f"WITH f AS ({select_from_json(fulfillment_orders, 'f')}) "
    f"{select_from_json(fulfillment_order_lines, 'l')}"
)


# An order's fulfilment orders, each row one of their lines (a line's columns prefixed
# ``l_``; none for a fulfilment order without lines), in the order ``for_order`` gives.
_FOR_ORDER = DriverStatement(
    select(
        fulfillment_orders,
        locations.c.code.label("location_code"),
        *(
            column.label(f"l_{column.name}")
            for column in fulfillment_order_lines.c
            if column.name not in ("tenant_id", "fulfillment_order_id")
        ),
    )
    .select_from(
        fulfillment_orders.join(locations, locations.c.id == _fo.location_id).outerjoin(
            fulfillment_order_lines,
            (_fl.tenant_id == _fo.tenant_id) & (_fl.fulfillment_order_id == _fo.id),
        )
    )
    .where(
        _fo.tenant_id == bindparam("p_tenant_id", type_=_fo.tenant_id.type),
        _fo.order_id == bindparam("p_order_id", type_=_fo.order_id.type),
    )
    .order_by(_fo.created_at, _fo.id, _fl.seq)
)


class SqlFulfilmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # Line counts as read or written in this transaction: only changed lines are saved.
        self._counts: dict[tuple[UUID, int], tuple[int, ...]] = {}

    # -- fulfilment orders ---------------------------------------------------------------

    def add(self, fo: FulfillmentOrder) -> None:
        fo.version = 1
        self._conn.execute(
            insert(fulfillment_orders).values(
                tenant_id=fo.tenant_id,
                id=fo.id,
                order_id=fo.order_id,
                order_number=fo.order_number,
                location_id=fo.location_id,
                kind=fo.kind.value,
                created_at=fo.created_at,
                **header_values(fo),
            )
        )
        self._conn.execute(
            insert(fulfillment_order_lines), [line_values(fo, line) for line in fo.lines]
        )
        self._remember(fo)
        fo.changed = False

    def add_many(self, fos: Sequence[FulfillmentOrder]) -> None:
        """``add`` for several new fulfilment orders (an intake group's released orders):
        on PostgreSQL one statement, the rows sent as two JSON documents (as the group's
        orders are: ``order_insert``); elsewhere two."""
        if not fos:
            return
        headers = []
        for fo in fos:
            fo.version = 1
            headers.append(
                {
                    "tenant_id": fo.tenant_id,
                    "id": fo.id,
                    "order_id": fo.order_id,
                    "order_number": fo.order_number,
                    "location_id": fo.location_id,
                    "kind": fo.kind.value,
                    "created_at": fo.created_at,
                    **header_values(fo),
                }
            )
        lines = [line_values(fo, line) for fo in fos for line in fo.lines]
        if self._conn.dialect.name == "postgresql":
            _INSERT_MANY.rows(self._conn, {"f": json_rows(headers), "l": json_rows(lines)})
        else:
            self._conn.execute(insert(fulfillment_orders), headers)
            self._conn.execute(insert(fulfillment_order_lines), lines)
        for fo in fos:
            self._remember(fo)
            fo.changed = False

    def save(self, fo: FulfillmentOrder) -> None:
        """Write back the header and every line's counts (lines are never added later).

        Optimistic: when another transaction saved the fulfilment order since it was read,
        nothing is written and the use case is retried (TransientStorageError)."""
        read_version = fo.version
        fo.version += 1
        result = self._conn.execute(
            update(fulfillment_orders)
            .where(_fo.tenant_id == fo.tenant_id, _fo.id == fo.id, _fo.version == read_version)
            .values(**header_values(fo))
        )
        if result.rowcount != 1:
            fo.version = read_version
            raise TransientStorageError(f"fulfilment order {fo.id} changed meanwhile")
        changed = [
            {"p_seq": line.seq, **{name: getattr(line, name) for name in COUNTS}}
            for line in fo.lines
            if self._counts.get((fo.id, line.seq)) != counts_of(line)
        ]
        if changed:
            self._conn.execute(
                update(fulfillment_order_lines).where(
                    _fl.tenant_id == fo.tenant_id,
                    _fl.fulfillment_order_id == fo.id,
                    _fl.seq == bindparam("p_seq"),
                ),
                changed,
            )
        self._remember(fo)
        fo.changed = False

    def _remember(self, fo: FulfillmentOrder) -> None:
        for line in fo.lines:
            self._counts[(fo.id, line.seq)] = counts_of(line)

    def order_id_of(self, tenant_id: UUID, fo_id: UUID) -> UUID | None:
        """The order a fulfilment order belongs to (one small read before locking it)."""
        found: UUID | None = self._conn.scalar(
            select(_fo.order_id).where(_fo.tenant_id == tenant_id, _fo.id == fo_id)
        )
        return found

    def _select(self) -> Any:
        return select(fulfillment_orders, locations.c.code.label("location_code")).join(
            locations, locations.c.id == _fo.location_id
        )

    def _with_lines(self, found: list[FulfillmentOrder]) -> list[FulfillmentOrder]:
        if not found:
            return found
        by_id = {fo.id: fo for fo in found}
        tenants = sorted({fo.tenant_id for fo in found}, key=str)
        for row in self._conn.execute(
            select(fulfillment_order_lines)
            .where(
                _fl.tenant_id.in_(tenants),
                _fl.fulfillment_order_id.in_(list(by_id)),
            )
            .order_by(_fl.fulfillment_order_id, _fl.seq)
        ):
            by_id[row.fulfillment_order_id].lines.append(
                FulfillmentLine(
                    seq=row.seq,
                    line_no=row.line_no,
                    sku=row.sku,
                    quantity=row.quantity,
                    allocation_id=row.allocation_id,
                    **{name: getattr(row, name) for name in COUNTS},
                )
            )
        for fo in found:
            self._remember(fo)
        return found

    def get(
        self, tenant_id: UUID, fo_id: UUID, *, for_update: bool = False
    ) -> FulfillmentOrder | None:
        query = self._select().where(_fo.tenant_id == tenant_id, _fo.id == fo_id)
        if for_update:
            query = query.with_for_update(of=fulfillment_orders)
        row = self._conn.execute(query).first()
        return None if row is None else self._with_lines([fulfillment_order_from_row(row)])[0]

    def for_order(self, tenant_id: UUID, order_id: UUID) -> list[FulfillmentOrder]:
        """An order's fulfilment orders with their lines: one statement (every save of a
        released order reads them, ``sync_fulfilment``)."""
        found: dict[UUID, FulfillmentOrder] = {}
        params = {"p_tenant_id": tenant_id, "p_order_id": order_id}
        for row in _FOR_ORDER.rows(self._conn, params):
            fo = found.get(row.id)
            if fo is None:
                fo = found[row.id] = fulfillment_order_from_row(row)
            if row.l_seq is not None:
                fo.lines.append(
                    FulfillmentLine(
                        seq=row.l_seq,
                        line_no=row.l_line_no,
                        sku=row.l_sku,
                        quantity=row.l_quantity,
                        allocation_id=row.l_allocation_id,
                        **{name: getattr(row, f"l_{name}") for name in COUNTS},
                    )
                )
        for fo in found.values():
            self._remember(fo)
        return list(found.values())

    def many(self, tenant_id: UUID, ids: Sequence[UUID]) -> list[FulfillmentOrder]:
        if not ids:
            return []
        rows = self._conn.execute(
            self._select().where(_fo.tenant_id == tenant_id, _fo.id.in_(list(ids))).order_by(_fo.id)
        )
        return self._with_lines([fulfillment_order_from_row(row) for row in rows])

    def page(
        self,
        tenant_id: UUID | None,
        *,
        location_id: UUID | None,
        statuses: Sequence[str],
        after_id: UUID | None,
        limit: int,
    ) -> list[FulfillmentOrder]:
        query = self._select()
        if tenant_id is not None:
            query = query.where(_fo.tenant_id == tenant_id)
        if location_id is not None:
            query = query.where(_fo.location_id == location_id)
        if statuses:
            query = query.where(_fo.status.in_(list(statuses)))
        if after_id is not None:
            query = query.where(_fo.id > after_id)
        rows = self._conn.execute(query.order_by(_fo.id).limit(limit))
        return self._with_lines([fulfillment_order_from_row(row) for row in rows])

    def waiting_for_wave(
        self, tenant_id: UUID, location_id: UUID, *, limit: int
    ) -> list[FulfillmentOrder]:
        """Open fulfilment orders of the location that no wave has taken yet."""
        rows = self._conn.execute(
            self._select()
            .where(
                _fo.tenant_id == tenant_id,
                _fo.location_id == location_id,
                _fo.status == FulfillmentOrderStatus.OPEN.value,
                _fo.wave_id.is_(None),
            )
            # The wave's own order (domain.picking.select_wave) for one location: the promised
            # ship date first (none last, on both databases), then priority, then age.
            .order_by(
                _fo.promised_ship_by.is_(None), _fo.promised_ship_by, _fo.priority, _fo.created_at
            )
            .limit(limit)
        )
        return self._with_lines([fulfillment_order_from_row(row) for row in rows])

    def uncollected(self, tenant_id: UUID, now: datetime, *, limit: int) -> list[UUID]:
        """Store pickups ready for longer than the tenant allows."""
        return list(
            self._conn.scalars(
                select(_fo.order_id)
                .where(
                    _fo.tenant_id == tenant_id,
                    _fo.status == FulfillmentOrderStatus.READY_FOR_PICKUP.value,
                    _fo.pickup_expires_at <= now,
                )
                .order_by(_fo.pickup_expires_at)
                .limit(limit)
            )
        )

    # -- waves -----------------------------------------------------------------------------

    def add_wave(self, wave: PickWave) -> None:
        self._conn.execute(
            insert(pick_waves).values(
                tenant_id=wave.tenant_id,
                id=wave.id,
                location_id=wave.location_id,
                status=wave.status.value,
                fulfillment_order_ids=[str(i) for i in wave.fulfillment_order_ids],
                created_by=wave.created_by,
                created_at=wave.created_at,
                completed_at=wave.completed_at,
            )
        )

    def get_wave(
        self, tenant_id: UUID, wave_id: UUID, *, for_update: bool = False
    ) -> PickWave | None:
        wc = pick_waves.c
        query = select(pick_waves).where(wc.tenant_id == tenant_id, wc.id == wave_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else wave_from_row(row)

    def waves(
        self,
        tenant_id: UUID,
        *,
        location_id: UUID | None,
        status: str | None,
        before_id: UUID | None,
        limit: int,
    ) -> list[PickWave]:
        """The tenant's waves, newest first."""
        wc = pick_waves.c
        query = select(pick_waves).where(wc.tenant_id == tenant_id)
        if location_id is not None:
            query = query.where(wc.location_id == location_id)
        if status is not None:
            query = query.where(wc.status == status)
        if before_id is not None:
            query = query.where(wc.id < before_id)
        rows = self._conn.execute(query.order_by(wc.id.desc()).limit(limit))
        return [wave_from_row(row) for row in rows]

    def save_wave(self, wave: PickWave) -> None:
        wc = pick_waves.c
        self._conn.execute(
            update(pick_waves)
            .where(wc.tenant_id == wave.tenant_id, wc.id == wave.id)
            .values(status=wave.status.value, completed_at=wave.completed_at)
        )

    # -- bins ------------------------------------------------------------------------------

    def bins(self, tenant_id: UUID, location_id: UUID, skus: Iterable[str]) -> dict[str, str]:
        bc = product_bins.c
        return {
            row.sku: row.bin
            for row in self._conn.execute(
                select(bc.sku, bc.bin).where(
                    bc.tenant_id == tenant_id,
                    bc.location_id == location_id,
                    bc.sku.in_(sorted(set(skus))),
                )
            )
        }

    def all_bins(self, tenant_id: UUID, location_id: UUID) -> dict[str, str]:
        """Every bin the tenant has at the location, by SKU."""
        bc = product_bins.c
        rows = self._conn.execute(
            select(bc.sku, bc.bin)
            .where(bc.tenant_id == tenant_id, bc.location_id == location_id)
            .order_by(bc.sku)
        )
        return {row.sku: row.bin for row in rows}

    def set_bins(self, tenant_id: UUID, location_id: UUID, bins: dict[str, str]) -> None:
        bc = product_bins.c
        self._conn.execute(
            delete(product_bins).where(
                bc.tenant_id == tenant_id, bc.location_id == location_id, bc.sku.in_(sorted(bins))
            )
        )
        if bins:
            self._conn.execute(
                insert(product_bins),
                [
                    {"tenant_id": tenant_id, "sku": sku, "location_id": location_id, "bin": b}
                    for sku, b in sorted(bins.items())
                ],
            )

    # -- packages --------------------------------------------------------------------------

    def add_package(self, tenant_id: UUID, package: Package) -> None:
        self._conn.execute(
            insert(packages).values(
                tenant_id=tenant_id,
                id=package.id,
                fulfillment_order_id=package.fulfillment_order_id,
                box=package.box,
                length_mm=package.length_mm,
                width_mm=package.width_mm,
                height_mm=package.height_mm,
                weight_grams=package.weight_grams,
                contents=[item.to_dict() for item in package.contents],
                shipment_id=package.shipment_id,
                created_by=package.created_by,
                created_at=package.created_at,
            )
        )

    def packages_of(self, tenant_id: UUID, fo_id: UUID) -> list[Package]:
        pc = packages.c
        rows = self._conn.execute(
            select(packages)
            .where(pc.tenant_id == tenant_id, pc.fulfillment_order_id == fo_id)
            .order_by(pc.created_at, pc.id)
        )
        return [package_from_row(row) for row in rows]

    def remove_package(self, tenant_id: UUID, package_id: UUID) -> bool:
        """Delete a package not yet shipped; False when there is no such package."""
        pc = packages.c
        result = self._conn.execute(
            delete(packages).where(
                pc.tenant_id == tenant_id, pc.id == package_id, pc.shipment_id.is_(None)
            )
        )
        return result.rowcount == 1

    def mark_shipped(self, tenant_id: UUID, package_ids: Sequence[UUID], shipment_id: UUID) -> None:
        pc = packages.c
        self._conn.execute(
            update(packages)
            .where(pc.tenant_id == tenant_id, pc.id.in_(list(package_ids)))
            .values(shipment_id=shipment_id)
        )
