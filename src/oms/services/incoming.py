"""Incoming supply: what open purchase orders bring, and when; a backorder's ETA from it.

An order for a SKU with no stock left waits (backordered). When sent purchase orders bring
that SKU, the units already waiting are served first (earliest promise first, as
``allocate_backorders`` serves them), so this order's units arrive with the purchase order
that covers them after those: its ETA. The promise is then the ETA plus the service level's
business days.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from oms.domain.inbound import IncomingSupply, eta_for
from oms.domain.shipping import add_business_days
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["backorder_etas", "incoming_supply", "promise_from_incoming"]


def incoming_supply(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, sku: str
) -> list[IncomingSupply]:
    """Open purchase order quantities of ``sku`` by expected date, earliest first."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.incoming(tenant_id, [sku])


def backorder_etas(
    uow: UnitOfWork, tenant_id: UUID, needs: dict[str, int]
) -> dict[str, date | None]:
    """Per SKU, the date incoming supply covers ``needs`` after what already waits."""
    if not needs:
        return {}
    incoming = uow.inbound.incoming(tenant_id, needs)
    ahead = uow.inbound.backordered_units(tenant_id, needs)
    return {
        sku: eta_for([s for s in incoming if s.sku == sku], ahead=ahead.get(sku, 0), need=need)
        for sku, need in needs.items()
    }


def promise_from_incoming(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    unfilled: dict[str, int],
    promise_days: int | None,
    record: dict[str, Any],
    promised_ship_by: date | None,
    promised_deliver_by: date | None,
) -> tuple[date | None, date | None]:
    """The promise of an order leaving ``unfilled`` units per SKU backordered: when every
    such SKU is on its way, shipping on the last ETA and delivering the service level's
    days after; the record keeps each SKU's ETA (null: none is on order)."""
    etas = backorder_etas(uow, tenant_id, unfilled)
    record["backorder_eta"] = {
        sku: None if eta is None else eta.isoformat() for sku, eta in sorted(etas.items())
    }
    if not etas or any(eta is None for eta in etas.values()):
        return promised_ship_by, promised_deliver_by
    last = max(eta for eta in etas.values() if eta is not None)
    deliver = add_business_days(last, promise_days or 0)
    if promised_deliver_by is not None and promised_deliver_by > deliver:
        deliver = promised_deliver_by
    # What ships now keeps its date; an order with nothing to ship now ships on the ETA.
    ship_by = last if promised_ship_by is None else promised_ship_by
    record["promised_deliver_by"] = deliver.isoformat()
    return ship_by, deliver
