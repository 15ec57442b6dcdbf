"""Actions on one order besides intake and cancel: payments and the timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import Field, StringConstraints

from oms.api.deps import (
    ActorDep,
    GatewaysDep,
    GeocoderDep,
    PageDep,
    TenantId,
    UowDep,
    page_of_all,
    parse_uuid,
)
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Code, Page, Strict
from oms.api.schemas.orders import EventOut, OrderRead, OrderUpdate, etag_of
from oms.api.schemas.payments import PaymentActionIn
from oms.domain import lengths
from oms.domain.errors import PreconditionFailed, PreconditionRequired
from oms.domain.payments import PaymentKind
from oms.services import editing, orders, payments, rerouting

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/orders/{order_id}", tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=lengths.IDEMPOTENCY_KEY,
        description="Repeat the call with the same key and nothing happens twice",
    ),
]

_KINDS = {
    "authorize": PaymentKind.AUTHORIZATION,
    "capture": PaymentKind.CAPTURE,
    "refund": PaymentKind.REFUND,
    "void": PaymentKind.VOID,
}


def _payment_route(action: str) -> None:
    kind = _KINDS[action]

    def act(
        order_id: str,
        tenant_id: TenantId,
        actor: ActorDep,
        uow: UowDep,
        gateways: GatewaysDep,
        body: PaymentActionIn | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> OrderRead:
        given = body or PaymentActionIn()
        order = payments.pay(
            uow_factory=uow,
            gateways=gateways,
            tenant_id=tenant_id,
            order_id=parse_uuid(order_id, "order"),
            request=payments.PaymentRequest(
                kind=kind,
                amount=given.amount,
                gateway=given.gateway,
                token=given.token,
                parent_id=given.parent_id,
                idempotency_key=idempotency_key,
            ),
            actor=actor,
        )
        return OrderRead.of(order)

    act.__name__ = f"{action}_payment"
    act.__doc__ = (
        f"{action.capitalize()} a payment of this order; the gateway's answer, approved or "
        "not, is recorded with a timeline event. 409 when the payments do not allow it."
    )
    router.add_api_route(f"/payments/{action}", act, methods=["POST"], response_model=OrderRead)


for _action in _KINDS:
    _payment_route(_action)


@router.patch(
    "",
    response_model=OrderRead,
    responses={412: {"description": "Stale If-Match"}, 428: {"description": "No If-Match"}},
)
def edit_order(
    order_id: str,
    body: OrderUpdate,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    geocoder: GeocoderDep,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> OrderRead:
    """Change lines, quantities or the shipping address before release; all or nothing."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag of the order you read")
    try:
        version = int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of this API") from None
    order = editing.edit_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        edit=body.to_edit(),
        expected_version=version,
        actor=actor,
        gateways=gateways,
        geocoder=geocoder,
    )
    response.headers["ETag"] = etag_of(order)
    return OrderRead.of(order)


class RerouteIn(Strict):
    exclude_locations: list[Code] = Field(
        default_factory=list, max_length=100, description="Location codes not to use"
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


@router.post("/reroute", response_model=OrderRead)
def reroute(
    order_id: str,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
    body: RerouteIn | None = None,
) -> OrderRead:
    """Release what is not shipped and route it again (e.g. a location cannot fulfil it)."""
    given = body or RerouteIn()
    order = rerouting.reroute_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        exclude=given.exclude_locations,
        reason=given.reason,
        actor=actor,
        geocoder=geocoder,
        gateways=gateways,
    )
    return OrderRead.of(order)


@router.get("/routing")
def get_routing(order_id: str, tenant_id: TenantId, uow: UowDep) -> dict[str, Any]:
    """How the order was routed: the profile version, destination and its precision, the
    packages (location, lines, carrier service, price, dates), the cost breakdown, each plan
    considered and why the winner won, and the locations left out with the reason."""
    order = orders.get_order(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order")
    )
    return order.routing or {"packages": [], "rounds": [], "note": "not routed"}


@router.get("/events", response_model=Page[EventOut])
def list_events(order_id: str, tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[EventOut]:
    """The order's timeline: every event, oldest first, with actor, reason and before/after."""
    order = orders.get_order(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order")
    )
    return page_of_all(order.events, page, item=EventOut.of, cursor=lambda e: f"{e.seq:010d}")
