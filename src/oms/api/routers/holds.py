"""Holds on orders, the exceptions queue (/v1/holds) and tenant policies (/v1/policies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from oms.api.deps import (
    ActorDep,
    GatewaysDep,
    PageDep,
    TenantId,
    UowDep,
    page_of,
    parse_uuid,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import REPLAYED_CREATE, create_status
from oms.api.schemas.common import Page
from oms.api.schemas.holds import (
    HoldCreate,
    HoldRead,
    HoldRelease,
    PoliciesRead,
    PoliciesUpdate,
)
from oms.api.schemas.orders import OrderRead
from oms.domain.holds import HoldReason
from oms.services import holds, policies
from oms.services.common import utcnow

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["holds"])


@router.post(
    "/orders/{order_id}/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldRead,
    responses=REPLAYED_CREATE,
)
def place_hold(
    order_id: str,
    body: HoldCreate,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    response: Response,
) -> HoldRead:
    """Put an order on hold (201); an open hold of the same reason is answered instead of a
    second (200)."""
    order, placed = holds.place_hold(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        reason=body.reason,
        note=body.note,
        actor=actor,
    )
    response.status_code = create_status(placed.created)
    return HoldRead.of(placed.resource, now=utcnow(), order_id=order.id, order_number=order.number)


@router.post("/orders/{order_id}/holds/{hold_id}/release", response_model=OrderRead)
def release_hold(
    order_id: str,
    hold_id: str,
    body: HoldRelease,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
) -> OrderRead:
    """Release a hold with a note; the order goes to fulfilment when nothing else stops it."""
    order = holds.release_hold(
        uow_factory=uow,
        gateways=gateways,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        hold_id=parse_uuid(hold_id, "hold"),
        note=body.note,
        actor=actor,
    )
    return OrderRead.of(order)


@router.get("/holds", response_model=Page[HoldRead])
def list_holds(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    reason: Annotated[HoldReason | None, Query()] = None,
) -> Page[HoldRead]:
    """Open holds, oldest first: the exceptions queue. ``overdue`` is past the tenant's SLA."""
    now = utcnow()
    found = holds.list_open_holds(
        uow_factory=uow,
        tenant_id=tenant_id,
        reason=reason,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
        now=now,
    )
    return page_of(
        found,
        page,
        item=lambda v: HoldRead.of(
            v.hold, now=now, order_id=v.order_id, order_number=v.order_number
        ),
        cursor=lambda v: str(v.hold.id),
    )


@router.get("/policies", response_model=PoliciesRead)
def get_policies(tenant_id: TenantId, uow: UowDep) -> PoliciesRead:
    return PoliciesRead.of(policies.get_policies(uow_factory=uow, tenant_id=tenant_id))


@router.put("/policies", response_model=PoliciesRead)
def update_policies(body: PoliciesUpdate, tenant_id: TenantId, uow: UowDep) -> PoliciesRead:
    """Change hold SLAs, authorization lifetime or the cart reservation limit."""
    current = policies.get_policies(uow_factory=uow, tenant_id=tenant_id)
    updated = policies.update_policies(
        uow_factory=uow, tenant_id=tenant_id, raw=body.merged_with(current)
    )
    return PoliciesRead.of(updated)
