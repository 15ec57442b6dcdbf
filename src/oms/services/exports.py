"""CSV export: orders, inventory levels and shipments since a moment, streamed page by page.

Each export yields its header, then one row per line / level / shipped item, reading a
page per transaction so memory stays flat however much there is. The orders export has the
columns of the orders import (``import_rows.COLUMNS``), the inventory export those of the
inventory import plus ``reserved`` and ``available``: a file exported here imports back as
it is (and changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.orders import Order
from oms.services.import_rows import COLUMNS, ImportKind
from oms.services.ports import OrderFilter, UnitOfWorkFactory

__all__ = ["ExportKind", "export_rows"]

PAGE = 500


class ExportKind(StrEnum):
    ORDERS = "orders"
    INVENTORY = "inventory"
    SHIPMENTS = "shipments"


INVENTORY_COLUMNS = (*COLUMNS[ImportKind.INVENTORY], "reserved", "available")
ORDER_COLUMNS = (*COLUMNS[ImportKind.ORDERS], "channel", "number", "status", "created_at")
SHIPMENT_COLUMNS = (
    "shipment_id",
    "order_number",
    "order_id",
    "channel",
    "external_id",
    "location",
    "carrier",
    "service",
    "tracking_number",
    "tracking_url",
    "status",
    "created_at",
    "sku",
    "quantity",
)


def export_rows(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, kind: ExportKind, since: datetime
) -> Iterator[list[str]]:
    """The header, then every row of ``kind`` changed (made) at or after ``since``."""
    if kind is ExportKind.ORDERS:
        yield list(ORDER_COLUMNS)
        yield from _orders(uow_factory, tenant_id, since)
    elif kind is ExportKind.INVENTORY:
        yield list(INVENTORY_COLUMNS)
        yield from _inventory(uow_factory, tenant_id, since)
    else:
        yield list(SHIPMENT_COLUMNS)
        yield from _shipments(uow_factory, tenant_id, since)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _order_rows(order: Order) -> Iterator[list[str]]:
    address = order.shipping_address
    paid = order.payment_status.value in {"paid", "partially_refunded", "refunded"}
    for n, line in enumerate(order.lines):
        first = n == 0
        cells: dict[str, object] = {
            "order_id": order.external_id or str(order.id),
            "currency": order.currency,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax": line.tax if line.tax else None,
            "channel": order.channel,
            "number": order.number,
            "status": order.status.value,
            "created_at": order.created_at.isoformat(),
        }
        if first:
            cells.update(
                email=order.customer.email,
                customer_name=order.customer.name,
                phone=order.customer.phone,
                shipping_price=order.shipping_price if order.shipping_price else None,
                paid="true" if paid else "false",
                service_level=order.service_level,
                tags=",".join(order.tags),
                note=order.note,
            )
            if address is not None:
                for name in ("name", "company", "line1", "line2", "city", "region"):
                    cells[f"ship_{name}"] = getattr(address, name)
                cells.update(
                    ship_postal_code=address.postal_code,
                    ship_country=address.country,
                    ship_phone=address.phone,
                )
        yield [_text(cells.get(column)) for column in ORDER_COLUMNS]


def _orders(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, since: datetime
) -> Iterator[list[str]]:
    before: UUID | None = None
    while True:
        with uow_factory(readonly=True) as uow:
            page = uow.orders.page(
                tenant_id, filters=OrderFilter(created_from=since), before_id=before, limit=PAGE
            )
        for order in page:
            yield from _order_rows(order)
        if len(page) < PAGE:
            return
        before = page[-1].id


def _inventory(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, since: datetime
) -> Iterator[list[str]]:
    after: tuple[str, UUID] | None = None
    while True:
        with uow_factory(readonly=True) as uow:
            codes = {loc.id: loc.code for loc in uow.locations.visible_to(tenant_id)}
            page = uow.inventory.changed_page(tenant_id, since=since, after=after, limit=PAGE)
        for level in page:
            if level.location_id in codes:
                yield [
                    level.sku,
                    codes[level.location_id],
                    str(level.on_hand),
                    str(level.safety_stock),
                    str(level.reserved),
                    str(level.available),
                ]
        if len(page) < PAGE:
            return
        after = (page[-1].sku, page[-1].location_id)


def _shipments(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, since: datetime
) -> Iterator[list[str]]:
    after: tuple[datetime, UUID] | None = None
    while True:
        with uow_factory(readonly=True) as uow:
            page = uow.shipments.created_page(tenant_id, since=since, after=after, limit=PAGE)
            orders = {
                o.id: o for o in uow.orders.get_many(tenant_id, list({s.order_id for s in page}))
            }
            fos = {
                fo.id: fo
                for fo in uow.fulfilment.many(
                    tenant_id, list({s.fulfillment_order_id for s in page})
                )
            }
        for shipment in page:
            order = orders.get(shipment.order_id)
            fo = fos.get(shipment.fulfillment_order_id)
            for item in shipment.contents:
                yield [
                    str(shipment.id),
                    _text(None if order is None else order.number),
                    str(shipment.order_id),
                    _text(None if order is None else order.channel),
                    _text(None if order is None else order.external_id),
                    _text(None if fo is None else fo.location_code),
                    shipment.carrier,
                    shipment.service,
                    shipment.tracking_number,
                    shipment.tracking_url,
                    shipment.status.value,
                    shipment.created_at.isoformat(),
                    item.sku,
                    str(item.quantity),
                ]
        if len(page) < PAGE:
            return
        after = (page[-1].created_at, page[-1].id)
