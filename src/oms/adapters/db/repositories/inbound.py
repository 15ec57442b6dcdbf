"""Suppliers, purchase orders and inbound shipments (ASNs) in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, insert, or_, select, tuple_, update

from oms.adapters.db.repositories.counts_transfers import SqlCountsAndTransfers
from oms.adapters.db.repositories.inbound_scans import SqlInboundScans
from oms.adapters.db.tables import (
    inbound_cartons,
    inbound_lines,
    inbound_putaways,
    inbound_scans,
    inbound_shipments,
    inventory_levels,
    locations,
    order_lines,
    orders,
    product_bins,
    purchase_order_lines,
    purchase_orders,
    supplier_skus,
    suppliers,
)
from oms.domain.ids import new_id
from oms.domain.inbound import (
    OPEN_PO_STATUSES,
    InboundLine,
    InboundShipment,
    InboundStatus,
    IncomingSupply,
    PoStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierSku,
)

__all__ = ["SqlInboundRepository"]

_s = suppliers.c
_po = purchase_orders.c
_pl = purchase_order_lines.c
_sh = inbound_shipments.c
_il = inbound_lines.c


class SqlInboundRepository(SqlCountsAndTransfers, SqlInboundScans):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # Suppliers

    def add_supplier(self, supplier: Supplier) -> None:
        self._conn.execute(
            insert(suppliers).values(
                tenant_id=supplier.tenant_id,
                id=supplier.id,
                name=supplier.name,
                lead_time_days=supplier.lead_time_days,
                moq=supplier.moq,
                pack_size=supplier.pack_size,
                currency=supplier.currency,
                created_at=supplier.created_at,
            )
        )

    def supplier(self, tenant_id: UUID, supplier_id: UUID) -> Supplier | None:
        row = self._conn.execute(
            select(suppliers).where(_s.tenant_id == tenant_id, _s.id == supplier_id)
        ).first()
        return None if row is None else Supplier(**row._mapping)

    def suppliers(self, tenant_id: UUID, *, after_id: UUID | None, limit: int) -> list[Supplier]:
        query = select(suppliers).where(_s.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(_s.id > after_id)
        rows = self._conn.execute(query.order_by(_s.id).limit(limit))
        return [Supplier(**row._mapping) for row in rows]

    # Purchase orders

    def add_purchase_order(self, po: PurchaseOrder, *, actor: str) -> None:
        self._conn.execute(
            insert(purchase_orders).values(
                tenant_id=po.tenant_id,
                id=po.id,
                supplier_id=po.supplier_id,
                location_id=po.location_id,
                expected_at=po.expected_at,
                status=po.status.value,
                created_by=actor,
                created_at=po.created_at,
                sent_at=po.sent_at,
            )
        )
        self._conn.execute(
            insert(purchase_order_lines),
            [
                {
                    "tenant_id": po.tenant_id,
                    "purchase_order_id": po.id,
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_cost": line.unit_cost,
                    "received": line.received,
                }
                for line in po.lines
            ],
        )

    def _purchase_orders(self, rows: Sequence[Any]) -> list[PurchaseOrder]:
        if not rows:
            return []
        lines: dict[UUID, list[PurchaseOrderLine]] = {row.id: [] for row in rows}
        keys = [(row.tenant_id, row.id) for row in rows]
        for line in self._conn.execute(
            select(purchase_order_lines)
            .where(tuple_(_pl.tenant_id, _pl.purchase_order_id).in_(keys))
            .order_by(_pl.purchase_order_id, _pl.line_no)
        ):
            lines[line.purchase_order_id].append(
                PurchaseOrderLine(
                    line_no=line.line_no,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost=line.unit_cost,
                    received=line.received,
                )
            )
        return [
            PurchaseOrder(
                id=row.id,
                tenant_id=row.tenant_id,
                supplier_id=row.supplier_id,
                location_id=row.location_id,
                location_code=row.code,
                expected_at=row.expected_at,
                lines=lines[row.id],
                created_at=row.created_at,
                status=PoStatus(row.status),
                sent_at=row.sent_at,
                currency=row.currency,
            )
            for row in rows
        ]

    def _po_query(self, tenant_id: UUID | None) -> Any:
        query = (
            select(purchase_orders, locations.c.code, _s.currency)
            .join(locations, locations.c.id == _po.location_id)
            .join(suppliers, (_s.tenant_id == _po.tenant_id) & (_s.id == _po.supplier_id))
        )
        return query if tenant_id is None else query.where(_po.tenant_id == tenant_id)

    def purchase_order(
        self, tenant_id: UUID, po_id: UUID, *, for_update: bool = False
    ) -> PurchaseOrder | None:
        if for_update:
            # Lock the order's own row first: receipts of one PO queue up behind each other.
            self._conn.execute(
                select(_po.id).where(_po.tenant_id == tenant_id, _po.id == po_id).with_for_update()
            )
        rows = self._conn.execute(self._po_query(tenant_id).where(_po.id == po_id)).all()
        found = self._purchase_orders(rows)
        return found[0] if found else None

    def purchase_orders(
        self, tenant_id: UUID | None, *, after_id: UUID | None, limit: int
    ) -> list[PurchaseOrder]:
        """A page of purchase orders by id: one tenant's, or (None) every tenant's."""
        query = self._po_query(tenant_id)
        if after_id is not None:
            query = query.where(_po.id > after_id)
        rows = self._conn.execute(query.order_by(_po.id).limit(limit)).all()
        return self._purchase_orders(rows)

    def save_purchase_order(self, po: PurchaseOrder) -> None:
        self._conn.execute(
            update(purchase_orders)
            .where(_po.tenant_id == po.tenant_id, _po.id == po.id)
            .values(status=po.status.value, sent_at=po.sent_at)
        )
        for line in po.lines:
            self._conn.execute(
                update(purchase_order_lines)
                .where(
                    _pl.tenant_id == po.tenant_id,
                    _pl.purchase_order_id == po.id,
                    _pl.line_no == line.line_no,
                )
                .values(received=line.received)
            )

    def incoming(self, tenant_id: UUID, skus: Iterable[str]) -> list[IncomingSupply]:
        """Open purchase order lines' units still to come, by SKU, earliest first."""
        wanted = sorted(set(skus))
        if not wanted:
            return []
        rows = self._conn.execute(
            select(_pl.sku, locations.c.code, _po.expected_at, _pl.quantity, _pl.received, _po.id)
            .join(
                purchase_orders,
                (_po.tenant_id == _pl.tenant_id) & (_po.id == _pl.purchase_order_id),
            )
            .join(locations, locations.c.id == _po.location_id)
            .where(
                _pl.tenant_id == tenant_id,
                _pl.sku.in_(wanted),
                _po.status.in_([s.value for s in OPEN_PO_STATUSES]),
                _pl.quantity > _pl.received,
            )
            .order_by(_po.expected_at, _po.id)
        )
        return [
            IncomingSupply(
                sku=row.sku,
                location_code=row.code,
                expected_at=row.expected_at,
                quantity=row.quantity - row.received,
                purchase_order_id=row.id,
            )
            for row in rows
        ]

    def on_order(self, tenant_id: UUID, skus: Iterable[str]) -> dict[tuple[str, str], int]:
        """Units still to come per SKU and location code on purchase orders not yet
        received nor cancelled, drafts included (replenishment's stock on order)."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        statuses = [PoStatus.DRAFT.value, *(s.value for s in OPEN_PO_STATUSES)]
        rows = self._conn.execute(
            select(_pl.sku, locations.c.code, func.sum(_pl.quantity - _pl.received))
            .join(
                purchase_orders,
                (_po.tenant_id == _pl.tenant_id) & (_po.id == _pl.purchase_order_id),
            )
            .join(locations, locations.c.id == _po.location_id)
            .where(
                _pl.tenant_id == tenant_id,
                _pl.sku.in_(wanted),
                _po.status.in_(statuses),
                _pl.quantity > _pl.received,
            )
            .group_by(_pl.sku, locations.c.code)
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def set_supplier_sku(self, tenant_id: UUID, link: SupplierSku, *, at: datetime) -> None:
        """Buy ``link.sku`` from ``link.supplier_id`` at ``link.unit_cost`` (replacing the
        SKU's earlier supplier)."""
        _ss = supplier_skus.c
        self._conn.execute(
            supplier_skus.delete().where(_ss.tenant_id == tenant_id, _ss.sku == link.sku)
        )
        self._conn.execute(
            insert(supplier_skus).values(
                tenant_id=tenant_id,
                sku=link.sku,
                supplier_id=link.supplier_id,
                unit_cost=link.unit_cost,
                updated_at=at,
            )
        )

    def supplier_skus(
        self, tenant_id: UUID, *, supplier_id: UUID | None = None
    ) -> list[SupplierSku]:
        """The tenant's SKU-supplier links (of one supplier), by SKU."""
        _ss = supplier_skus.c
        query = select(_ss.sku, _ss.supplier_id, _ss.unit_cost).where(_ss.tenant_id == tenant_id)
        if supplier_id is not None:
            query = query.where(_ss.supplier_id == supplier_id)
        return [
            SupplierSku(sku=row.sku, supplier_id=row.supplier_id, unit_cost=row.unit_cost)
            for row in self._conn.execute(query.order_by(_ss.sku))
        ]

    def backordered_units(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, int]:
        """Units of each SKU that open orders wait for (their own lines, not bundles')."""
        ln = order_lines.c
        rows = self._conn.execute(
            select(ln.sku, func.sum(ln.backordered))
            .join(orders, (orders.c.tenant_id == ln.tenant_id) & (orders.c.id == ln.order_id))
            .where(
                ln.tenant_id == tenant_id,
                ln.sku.in_(sorted(set(skus))),
                ln.backordered > 0,
                orders.c.status.in_(["open", "on_hold"]),
            )
            .group_by(ln.sku)
        )
        return {row[0]: int(row[1] or 0) for row in rows}

    # Inbound shipments

    def add_shipment(self, shipment: InboundShipment) -> None:
        self._conn.execute(
            insert(inbound_shipments).values(
                tenant_id=shipment.tenant_id,
                id=shipment.id,
                location_id=shipment.location_id,
                reference=shipment.reference,
                tracking=shipment.tracking,
                status=shipment.status.value,
                created_by=shipment.created_by,
                created_at=shipment.created_at,
                closed_at=shipment.closed_at,
            )
        )
        self._insert_lines(shipment.tenant_id, shipment.id, shipment.lines)

    def _insert_lines(
        self, tenant_id: UUID, shipment_id: UUID, lines: Sequence[InboundLine]
    ) -> None:
        if not lines:
            return
        self._conn.execute(
            insert(inbound_lines),
            [
                {
                    "tenant_id": tenant_id,
                    "shipment_id": shipment_id,
                    "sku": line.sku,
                    "expected": line.expected,
                    "received_good": line.received_good,
                    "received_damaged": line.received_damaged,
                    "put_away": line.put_away,
                }
                for line in lines
            ],
        )

    def _shipments(self, rows: Sequence[Any]) -> list[InboundShipment]:
        if not rows:
            return []
        keys = [(row.tenant_id, row.id) for row in rows]
        lines: dict[tuple[UUID, UUID], list[InboundLine]] = {k: [] for k in keys}
        tenant_ids = sorted({k[0] for k in keys})
        for line in self._conn.execute(
            select(inbound_lines)
            .where(_il.tenant_id.in_(tenant_ids), _il.shipment_id.in_([k[1] for k in keys]))
            .order_by(_il.sku)
        ):
            key = (line.tenant_id, line.shipment_id)
            if key in lines:
                lines[key].append(
                    InboundLine(
                        sku=line.sku,
                        expected=line.expected,
                        received_good=line.received_good,
                        received_damaged=line.received_damaged,
                        put_away=line.put_away,
                    )
                )
        return [
            InboundShipment(
                id=row.id,
                tenant_id=row.tenant_id,
                location_id=row.location_id,
                location_code=row.code,
                reference=row.reference,
                lines=lines[(row.tenant_id, row.id)],
                created_at=row.created_at,
                created_by=row.created_by,
                status=InboundStatus(row.status),
                tracking=row.tracking,
                closed_at=row.closed_at,
            )
            for row in rows
        ]

    def shipment(
        self, tenant_id: UUID, shipment_id: UUID, *, for_update: bool = False
    ) -> InboundShipment | None:
        if for_update:
            # Every count of a shipment happens under its row lock: two receivers scanning it
            # at once take turns, each seeing the other's counts (docs/inbound.md).
            self._conn.execute(
                select(_sh.id)
                .where(_sh.tenant_id == tenant_id, _sh.id == shipment_id)
                .with_for_update()
            )
        rows = self._conn.execute(
            select(inbound_shipments, locations.c.code)
            .join(locations, locations.c.id == _sh.location_id)
            .where(_sh.tenant_id == tenant_id, _sh.id == shipment_id)
        ).all()
        found = self._shipments(rows)
        return found[0] if found else None

    def shipment_tenant(self, shipment_id: UUID) -> UUID | None:
        """Whose shipment this is (the operator addresses any merchant's by id)."""
        found: UUID | None = self._conn.scalar(select(_sh.tenant_id).where(_sh.id == shipment_id))
        return found

    def shipments(
        self, tenant_id: UUID | None, *, after_id: UUID | None, limit: int
    ) -> list[InboundShipment]:
        """A page of shipments by id: one tenant's, or (None) every tenant's."""
        query = select(inbound_shipments, locations.c.code).join(
            locations, locations.c.id == _sh.location_id
        )
        if tenant_id is not None:
            query = query.where(_sh.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(_sh.id > after_id)
        return self._shipments(self._conn.execute(query.order_by(_sh.id).limit(limit)).all())

    def save_shipment(
        self,
        shipment: InboundShipment,
        *,
        new_lines: Sequence[InboundLine],
        changed: Iterable[str] = (),
    ) -> None:
        """Write the shipment's status and the counts of the ``changed`` SKUs' lines
        (``new_lines`` are inserted)."""
        self._conn.execute(
            update(inbound_shipments)
            .where(
                _sh.tenant_id == shipment.tenant_id,
                _sh.id == shipment.id,
                # A scan of a shipment already receiving rewrites nothing.
                or_(
                    _sh.status != shipment.status.value,
                    _sh.closed_at.is_distinct_from(shipment.closed_at),
                ),
            )
            .values(status=shipment.status.value, closed_at=shipment.closed_at)
        )
        fresh = {line.sku for line in new_lines}
        wanted = set(changed) - fresh
        self._insert_lines(shipment.tenant_id, shipment.id, new_lines)
        for line in shipment.lines:
            if line.sku not in wanted:
                continue
            self._conn.execute(
                update(inbound_lines)
                .where(
                    _il.tenant_id == shipment.tenant_id,
                    _il.shipment_id == shipment.id,
                    _il.sku == line.sku,
                )
                .values(
                    received_good=line.received_good,
                    received_damaged=line.received_damaged,
                    put_away=line.put_away,
                )
            )

    def exceptions(self, tenant_id: UUID, shipment_id: UUID) -> list[dict[str, Any]]:
        """Every exception the scans of a shipment recorded, in scan order."""
        sc = inbound_scans.c
        found: list[dict[str, Any]] = []
        for row in self._conn.execute(
            select(sc.sku, sc.exceptions, sc.scan_id, sc.created_at)
            .where(sc.tenant_id == tenant_id, sc.shipment_id == shipment_id, sc.seq > 0)
            .order_by(sc.created_at, sc.scan_id, sc.seq)
        ):
            for kind, reason in row.exceptions:
                found.append(
                    {"sku": row.sku, "kind": kind, "reason": reason, "scan_id": row.scan_id}
                )
        return found

    def add_putaway(
        self,
        tenant_id: UUID,
        *,
        shipment_id: UUID,
        sku: str,
        bin_code: str,
        quantity: int,
        actor: str,
        at: datetime,
    ) -> None:
        self._conn.execute(
            insert(inbound_putaways).values(
                tenant_id=tenant_id,
                id=new_id(),
                shipment_id=shipment_id,
                sku=sku,
                bin=bin_code,
                quantity=quantity,
                actor=actor,
                created_at=at,
            )
        )

    def location_bins(self, location_id: UUID) -> tuple[list[str], set[str]]:
        """The bins known at a location (any tenant's SKUs name them) and those holding stock."""
        bc, lv = product_bins.c, inventory_levels.c
        rows = self._conn.execute(
            select(bc.bin, func.max(lv.on_hand))
            .select_from(product_bins)
            .outerjoin(
                inventory_levels,
                (lv.tenant_id == bc.tenant_id)
                & (lv.sku == bc.sku)
                & (lv.location_id == bc.location_id),
            )
            .where(bc.location_id == location_id)
            .group_by(bc.bin)
        ).all()
        return [row[0] for row in rows], {row[0] for row in rows if (row[1] or 0) > 0}

    # Cartons (docs/inbound.md#cartons)

    def add_cartons(
        self,
        tenant_id: UUID,
        shipment_id: UUID,
        cartons: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    ) -> None:
        rows = [
            {
                "tenant_id": tenant_id,
                "shipment_id": shipment_id,
                "code": code,
                "sku": sku,
                "expected": expected,
            }
            for code, contents in cartons
            for sku, expected in contents
        ]
        if rows:
            self._conn.execute(insert(inbound_cartons), rows)

    def cartons(self, tenant_id: UUID, shipment_id: UUID) -> dict[str, dict[str, int]]:
        c = inbound_cartons.c
        found: dict[str, dict[str, int]] = {}
        for code, sku, expected in self._conn.execute(
            select(c.code, c.sku, c.expected)
            .where(c.tenant_id == tenant_id, c.shipment_id == shipment_id)
            .order_by(c.code, c.sku)
        ):
            found.setdefault(code, {})[sku] = int(expected)
        return found

    def carton_received(self, tenant_id: UUID, shipment_id: UUID) -> dict[tuple[str, str], int]:
        sc = inbound_scans.c
        rows = self._conn.execute(
            select(sc.carton, sc.sku, func.sum(sc.quantity))
            .where(
                sc.tenant_id == tenant_id,
                sc.shipment_id == shipment_id,
                sc.seq > 0,
                sc.carton.is_not(None),
            )
            .group_by(sc.carton, sc.sku)
        )
        return {(code, sku): int(units) for code, sku, units in rows}
