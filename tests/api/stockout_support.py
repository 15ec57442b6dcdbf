"""A tenant whose SKU sells out at a location: orders, rollups and stock samples over a
week of 2039 no other test writes to (tests of stock-out days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.services import intake
from oms.services.rollups import rebuild, refresh
from tests.api.support import ApiTenant
from tests.builders import TESTER, add_location, add_product, order_of, set_stock

__all__ = ["DAY", "RANGE", "sell_out"]

DAY = datetime(2039, 5, 2, 10, 0, tzinfo=UTC)
RANGE = {"from": "2039-05-01", "to": "2039-05-10"}


def _order(
    uow: SqlUnitOfWorkFactory, tenant: ApiTenant, n: int, sku: str, qty: int, at: datetime
) -> None:
    intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=tenant.id,
        command=order_of((sku, qty), external_id=f"so-{n}"),
        actor=TESTER,
        at=at,
    )


def sell_out(uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> None:
    """SO-A sells out on day 2 and stays out on day 3; SO-B never runs out; SO-C has none
    but never sold there."""
    add_location(uow, tenant.id, "SO")
    for sku, units in (("SO-A", 3), ("SO-B", 50), ("SO-C", 0)):
        add_product(uow, tenant.id, sku)
        if units:
            set_stock(uow, tenant.id, sku, "SO", units)
    _order(uow, tenant, 1, "SO-A", 2, DAY)
    _order(uow, tenant, 2, "SO-B", 1, DAY)
    rebuild(uow_factory=uow, now=DAY + timedelta(hours=1), tenant_ids=[tenant.id])
    _order(uow, tenant, 3, "SO-A", 1, DAY + timedelta(days=2))
    refresh(uow_factory=uow, now=DAY + timedelta(days=2, hours=1), tenant_ids=[tenant.id])
    refresh(uow_factory=uow, now=DAY + timedelta(days=3), tenant_ids=[tenant.id])
