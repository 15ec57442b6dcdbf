"""Returns (RMAs): ``POST /v1/orders/{order_id}/returns`` (and ``/till-returns``: at a
store's till in one call), ``/v1/returns/{return_id}/approve``,
``/reject``, ``/receive``, ``/refund``, ``GET /v1/returns`` and ``/v1/returns/{return_id}``,
and the tenant's return policy at ``/v1/return-policy``. Names fixed by issue 20."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from oms.api.deps import (
    ActorDep,
    AppDep,
    CallerDep,
    CarriersDep,
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
from oms.api.routers.order_actions import IdempotencyKey
from oms.api.schemas.common import Page, UtcTime
from oms.api.schemas.returns import (
    ClaimCreate,
    ReturnCreate,
    ReturnDecision,
    ReturnLabelIn,
    ReturnPolicyRead,
    ReturnRead,
    ReturnReceipt,
    TillReturnCreate,
)
from oms.domain.returns import Resolution, ReturnPolicy, ReturnStatus, WantedLine
from oms.services import claims, return_labels, returns, till_returns
from oms.services.return_records import ReturnFilter

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["returns"])


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnRead,
    responses=REPLAYED_CREATE,
)
def create_return(
    order_id: str,
    body: ReturnCreate,
    caller: CallerDep,
    app: AppDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReturnRead:
    """Ask to return shipped units: 201 with ``status`` ``requested`` (waiting in the queue)
    or ``approved`` (the policy approved it at once); 422 naming each line that may not come
    back; 409 once the return window closed. ``exchange``: the replacement order is placed
    and reserved now (``exchange_order_id``); a size out of stock answers 409
    ``exchange_out_of_stock`` naming it, or is backordered, by the tenant's policy."""
    # The caller and the app's state: two dependencies where four each cost this hot route
    # some CPU (docs/performance.md).
    found, created = returns.request_return(
        uow_factory=app.uow_factory,
        tenant_id=caller.tenant_id,
        order_id=parse_uuid(order_id, "order"),
        command=returns.NewReturn(
            lines=tuple(WantedLine(ln.line_no, ln.quantity, ln.reason) for ln in body.lines),
            resolution=body.resolution,
            note=body.note,
            exchange_lines=tuple(
                returns.ExchangeLine(e.sku, e.quantity) for e in body.exchange_lines
            ),
        ),
        actor=caller.actor,
        idempotency_key=idempotency_key,
        gateways=app.gateways,
    )
    response.status_code = create_status(created)
    return ReturnRead.of(found)


@router.post(
    "/orders/{order_id}/till-returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnRead,
    responses=REPLAYED_CREATE,
)
def create_till_return(
    order_id: str,
    body: TillReturnCreate,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    response: Response,
) -> ReturnRead:
    """Units handed back at a store's till: requested, approved, received at the store
    (each line's disposition) and refunded (or given as store credit) in one call, answered
    ``refunded``. The same ``receipt_id`` again is the same return (200), finishing any step
    an interrupted call left; the policy's window, conditions and reasons hold as for any
    return (422, 409)."""
    found, created = till_returns.return_at_till(
        uow_factory=uow,
        gateways=gateways,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        store=body.store_location,
        receipt_id=body.receipt_id,
        lines=[
            till_returns.TillReturnLine(ln.line_no, ln.quantity, ln.reason, ln.disposition)
            for ln in body.lines
        ],
        resolution=Resolution(body.resolution),
        actor=actor,
        note=body.note,
    )
    response.status_code = create_status(created)
    return ReturnRead.of(found)


@router.post(
    "/orders/{order_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnRead,
    responses=REPLAYED_CREATE,
)
def create_claim(
    order_id: str,
    body: ClaimCreate,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    idempotency_key: IdempotencyKey = None,
) -> ReturnRead:
    """A parcel lost or damaged in transit: answered at once by a reshipment (a linked
    order, no charge: ``exchange_order_id``) or a refund of the units' value. The claim is
    a return whose units never come back (reason ``lost_in_transit`` or
    ``damaged_in_transit``)."""
    return ReturnRead.of(
        claims.open_claim(
            uow_factory=uow,
            gateways=gateways,
            tenant_id=tenant_id,
            order_id=parse_uuid(order_id, "order"),
            units=[claims.ClaimedUnits(ln.line_no, ln.quantity) for ln in body.lines],
            damaged=body.kind == "damaged",
            resolution=Resolution(body.resolution),
            actor=actor,
            idempotency_key=idempotency_key,
        )
    )


@router.post("/returns/{return_id}/approve", response_model=ReturnRead)
def approve_return(
    return_id: str,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    body: ReturnDecision | None = None,
) -> ReturnRead:
    """Accept a requested return; 409 in any other state."""
    return ReturnRead.of(
        returns.approve_return(
            uow_factory=uow,
            tenant_id=tenant_id,
            return_id=parse_uuid(return_id, "return"),
            actor=actor,
            note=None if body is None else body.note,
        )
    )


@router.post("/returns/{return_id}/reject", response_model=ReturnRead)
def reject_return(
    return_id: str,
    body: ReturnDecision,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
) -> ReturnRead:
    """Refuse a return nothing of which was received; the note (required) says why."""
    return ReturnRead.of(
        returns.reject_return(
            uow_factory=uow,
            tenant_id=tenant_id,
            return_id=parse_uuid(return_id, "return"),
            actor=actor,
            note=body.note,
            gateways=gateways,
        )
    )


@router.post("/returns/{return_id}/label", response_model=ReturnRead)
def buy_return_label(
    return_id: str,
    body: ReturnLabelIn,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    carriers: CarriersDep,
) -> ReturnRead:
    """Buy the label the customer sends an approved return back on, to ``location``, with
    the carrier and service of the order's latest shipment unless named; asking again
    answers the label bought. 422 when the carrier refuses it."""
    return ReturnRead.of(
        return_labels.buy_return_label(
            uow_factory=uow,
            carriers=carriers,
            tenant_id=tenant_id,
            return_id=parse_uuid(return_id, "return"),
            location=body.location,
            carrier=body.carrier,
            service=body.service,
            actor=actor,
        )
    )


@router.post("/returns/{return_id}/receive", response_model=ReturnRead)
def receive_return(
    return_id: str, body: ReturnReceipt, caller: CallerDep, app: AppDep
) -> ReturnRead:
    """Count units in at a location: ``restock`` puts them back on hand (available again,
    a ``return_restock`` movement), ``quarantine`` and ``dispose`` keep them out of stock."""
    return ReturnRead.of(
        returns.receive_return(
            uow_factory=app.uow_factory,
            tenant_id=caller.tenant_id,
            return_id=parse_uuid(return_id, "return"),
            location=body.location,
            units=[
                returns.ReceivedUnits(ln.line_no, ln.quantity, ln.disposition) for ln in body.lines
            ],
            actor=caller.actor,
        )
    )


@router.post("/returns/{return_id}/refund", response_model=ReturnRead)
def refund_return(
    return_id: str,
    caller: CallerDep,
    app: AppDep,
    idempotency_key: IdempotencyKey = None,
) -> ReturnRead:
    """Pay the return back; the amount is computed (line values with their discount share,
    shipping on a full return, less the restocking fee), never sent. 409 before receipt
    (unless the policy refunds first) and for a second refund; repeating the first one's
    Idempotency-Key answers the refunded return."""
    return ReturnRead.of(
        returns.refund_return(
            uow_factory=app.uow_factory,
            gateways=app.gateways,
            tenant_id=caller.tenant_id,
            return_id=parse_uuid(return_id, "return"),
            actor=caller.actor,
            idempotency_key=idempotency_key,
        )
    )


@router.get("/returns", response_model=Page[ReturnRead])
def list_returns(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    status: Annotated[ReturnStatus | None, Query()] = None,
    reason: Annotated[str | None, Query(max_length=100)] = None,
    order_id: Annotated[str | None, Query()] = None,
    created_from: UtcTime | None = None,
    created_to: UtcTime | None = None,
) -> Page[ReturnRead]:
    """Returns, newest first; ``status=requested`` is the queue waiting for a person."""
    found = returns.list_returns(
        uow_factory=uow,
        tenant_id=tenant_id,
        filters=ReturnFilter(
            status=status,
            reason=reason,
            order_id=None if order_id is None else parse_uuid(order_id, "order"),
            created_from=created_from,
            created_to=created_to,
        ),
        before_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(found, page, item=ReturnRead.of, cursor=lambda r: str(r.id))


@router.get("/returns/{return_id}", response_model=ReturnRead)
def get_return(return_id: str, tenant_id: TenantId, uow: UowDep) -> ReturnRead:
    return ReturnRead.of(
        returns.get_return(
            uow_factory=uow, tenant_id=tenant_id, return_id=parse_uuid(return_id, "return")
        )
    )


@router.get("/return-policy", response_model=ReturnPolicyRead)
def get_return_policy(tenant_id: TenantId, uow: UowDep) -> ReturnPolicyRead:
    """The tenant's return rules: window, reason codes, fees, auto-approval."""
    return ReturnPolicyRead.of(returns.get_policy(uow_factory=uow, tenant_id=tenant_id))


@router.put("/return-policy", response_model=ReturnPolicyRead)
def put_return_policy(
    body: dict[str, object], tenant_id: TenantId, uow: UowDep
) -> ReturnPolicyRead:
    """Replace the tenant's return rules; fields left out take their defaults."""
    policy = ReturnPolicy.from_dict(body)
    return ReturnPolicyRead.of(
        returns.put_policy(uow_factory=uow, tenant_id=tenant_id, policy=policy)
    )
