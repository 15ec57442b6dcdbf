"""Billing for the 3PL: each merchant's price list, and its statement for a month.

The statement counts what happened at the operator's own locations (``owner_tenant_id``
None: the 3PL's warehouses), never at a merchant's own stores:

- storage from the ledger: each stock row's on hand at the month's start (the sum of its
  movements before) plus its movements summed per day, by the rule of
  ``oms.domain.billing.storage_usage``, computed in the database
  (``BillingRepository.storage_usage``);
- receiving from the ledger's ``receipt`` movements (receipts of inbound shipments and
  purchase orders carry their reference);
- picks, packages and labels from the shipments created in the month;
- special handling from the units shipped per product category.

Then ``oms.domain.billing.price_activity`` prices it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from oms.domain.billing import (
    Activity,
    Period,
    PriceList,
    Statement,
    StorageUsage,
    price_activity,
)
from oms.domain.errors import Conflict, NotFound
from oms.domain.tenancy import Principal
from oms.services.common import utcnow
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "BillingRepository",
    "ReceivingTally",
    "ShippedWork",
    "StatementSet",
    "activity_of",
    "get_price_list",
    "set_price_list",
    "statement_for",
    "statement_of",
    "statements_for",
]


@dataclass(frozen=True)
class ReceivingTally:
    receipts: int
    lines: int
    units: int


@dataclass(frozen=True)
class ShippedWork:
    """One shipment, as billing sees it."""

    fulfillment_order_id: UUID
    contents: tuple[tuple[str, int], ...]  # (SKU, units) per fulfilment-order line
    packages: int
    cost: Decimal
    currency: str


class BillingRepository(Protocol):
    """Price lists, and the ledger and shipments of a period aggregated for a statement."""

    def price_list(self, tenant_id: UUID) -> PriceList | None: ...

    def save_price_list(
        self, tenant_id: UUID, prices: PriceList, *, actor: str, at: datetime
    ) -> None: ...

    def storage_usage(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, days: int
    ) -> dict[UUID, tuple[int, int]]:
        """Location -> (unit-days, bin-days) over ``days`` days from ``start``, by the rule of
        ``oms.domain.billing.storage_usage``: each stock row's on hand at the end of each
        day (its movements before ``start``, plus those of each day, summed per row and day),
        and the bins holding stock then (a SKU with no bin is a bin of its own)."""
        ...

    def receiving(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> ReceivingTally:
        """Receipt movements in [start, end): references, (reference, SKU, location), units."""
        ...

    def shipped(
        self, tenant_id: UUID, location_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[ShippedWork]:
        """Shipments created in [start, end) from the locations named."""
        ...


@dataclass(frozen=True)
class StatementSet:
    """Statements of a period; merchants without a price list are named, not billed."""

    period: Period
    statements: list[Statement]
    unpriced_tenants: list[UUID]
    # A page of merchants (by id): the last one on it, when more follow.
    more_after: UUID | None = None


def get_price_list(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> PriceList:
    """The merchant's price list; 404 when none was set."""
    with uow_factory(readonly=True) as uow:
        found = uow.billing.price_list(tenant_id)
    if found is None:
        raise NotFound("No price list for this merchant")
    return found


def set_price_list(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    prices: PriceList,
    at: datetime | None = None,
) -> PriceList:
    """Replace a merchant's price list; only the operator sets prices (403 otherwise)."""
    principal.require_operator()
    tenant_id = principal.require_tenant()
    with uow_factory() as uow:
        uow.billing.save_price_list(
            tenant_id, prices, actor=f"api_key:{principal.key_id}", at=at or utcnow()
        )
        uow.commit()
    return prices


def _operator_locations(uow: UnitOfWork) -> dict[UUID, str]:
    """The 3PL's own locations (archived ones too: they may have held stock in the month)."""
    return {loc.id: loc.code for loc in uow.locations.operator_locations()}


def activity_of(uow: UnitOfWork, *, tenant_id: UUID, period: Period, as_of: datetime) -> Activity:
    """What the operator's locations did for ``tenant_id`` in ``period`` (up to ``as_of``)."""
    codes = _operator_locations(uow)
    ids = sorted(codes)
    start, end = period.start, min(period.end, max(as_of, period.start))
    repo = uow.billing
    usage = repo.storage_usage(tenant_id, ids, start, len(period.days(until=end)))
    receiving = repo.receiving(tenant_id, ids, start, end)
    shipped = repo.shipped(tenant_id, ids, start, end)
    by_sku: Counter[str] = Counter()
    for work in shipped:
        for sku, units in work.contents:
            by_sku[sku] += units
    products = uow.products.by_skus(tenant_id, list(by_sku))
    by_category: Counter[str] = Counter()
    for sku, units in by_sku.items():
        product = products.get(sku)
        if product is not None and product.category:
            by_category[product.category] += units
    label_cost: dict[str, Decimal] = {}
    for work in shipped:
        label_cost[work.currency] = label_cost.get(work.currency, Decimal(0)) + work.cost
    return Activity(
        storage=tuple(
            StorageUsage(location_id=loc, location_code=codes[loc], unit_days=u, bin_days=b)
            for loc, (u, b) in sorted(usage.items(), key=lambda item: codes[item[0]])
        ),
        receipts=receiving.receipts,
        receipt_lines=receiving.lines,
        receipt_units=receiving.units,
        pick_orders=len({work.fulfillment_order_id for work in shipped}),
        pick_lines=sum(len(work.contents) for work in shipped),
        pick_units=sum(by_sku.values()),
        packages=sum(work.packages for work in shipped),
        labels=len(shipped),
        label_cost=label_cost,
        units_by_category=dict(by_category),
    )


def _statement(
    uow: UnitOfWork, tenant_id: UUID, period: Period, as_of: datetime
) -> Statement | None:
    prices = uow.billing.price_list(tenant_id)
    if prices is None:
        return None
    tenant = uow.tenants.get(tenant_id)
    activity = activity_of(uow, tenant_id=tenant_id, period=period, as_of=as_of)
    return price_activity(
        tenant_id=tenant_id,
        tenant_name="" if tenant is None else tenant.name,
        period=period,
        activity=activity,
        prices=prices,
    )


def statement_for(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    period: Period,
    at: datetime | None = None,
) -> Statement:
    """One merchant's statement; 409 when it has no price list."""
    with uow_factory(readonly=True) as uow:
        found = _statement(uow, tenant_id, period, at or utcnow())
    if found is None:
        raise Conflict(
            "This merchant has no price list: set one first (PUT /v1/billing/price-list)"
        )
    return found


def statement_of(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    tenant_id: UUID,
    period: Period,
    at: datetime | None = None,
) -> Statement:
    """One merchant's statement as the caller may see it: an operator's of any merchant, a
    merchant's of its own only (another's is 404, like one that does not exist)."""
    if not principal.is_operator and principal.tenant_id != tenant_id:
        raise NotFound(f"No merchant {tenant_id}")
    if principal.is_operator and principal.tenant_id not in (None, tenant_id):
        raise NotFound(f"No merchant {tenant_id}")
    with uow_factory(readonly=True) as uow:
        if uow.tenants.get(tenant_id) is None:
            raise NotFound(f"No merchant {tenant_id}")
    return statement_for(uow_factory=uow_factory, tenant_id=tenant_id, period=period, at=at)


def statements_for(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    period: Period,
    at: datetime | None = None,
    after: UUID | None = None,
    limit: int | None = None,
) -> StatementSet:
    """The statements the caller may see: an operator key without a tenant, every merchant's
    (by merchant id: up to ``limit`` of them, after ``after``); otherwise the one merchant's
    it acts for."""
    as_of = at or utcnow()
    more_after: UUID | None = None
    with uow_factory(readonly=True) as uow:
        if principal.is_operator and principal.tenant_id is None:
            tenant_ids = sorted((t.id for t in uow.tenants.all()), key=str)
            if after is not None:
                tenant_ids = [t for t in tenant_ids if str(t) > str(after)]
            if limit is not None and len(tenant_ids) > limit:
                tenant_ids = tenant_ids[:limit]
                more_after = tenant_ids[-1]
        else:
            tenant_ids = [principal.require_tenant()]
        statements: list[Statement] = []
        unpriced: list[UUID] = []
        for tenant_id in tenant_ids:
            found = _statement(uow, tenant_id, period, as_of)
            if found is None:
                unpriced.append(tenant_id)
            else:
                statements.append(found)
    return StatementSet(
        period=period, statements=statements, unpriced_tenants=unpriced, more_after=more_after
    )
