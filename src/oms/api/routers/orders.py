"""/v1/orders: intake, reading, listing, cancelling."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from oms.api.deps import (
    ActorDep,
    AppDep,
    Caller,
    CallerDep,
    GatewaysDep,
    PageDep,
    TenantId,
    UowDep,
    page_of,
    parse_uuid,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import create_status
from oms.api.schemas.common import Page, UtcTime
from oms.api.schemas.orders import CancelRequest, OrderCreate, OrderRead, etag_of
from oms.config import Settings
from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.status import OrderStatus
from oms.services import orders
from oms.services.common import utcnow
from oms.services.intake import PlacedOrder
from oms.services.intake_group import Submission, groupable, place_alone
from oms.services.ports import OrderFilter
from oms.services.pos import sell_submission as sell_at_till

__all__ = ["order_submission", "placed_answer", "router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/orders", tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=lengths.IDEMPOTENCY_KEY,
        description="Send the same key again to get the same order back, never a second one",
    ),
]


def _fingerprint(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=OrderRead,
    responses={200: {"description": "The order already existed (same key or external id)"}},
)
async def place_order(
    body: OrderCreate,
    caller: CallerDep,
    app: AppDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Take an order exactly once and reserve its stock (201; 200 when it already existed)."""
    # Most requests never get here: oms.api.intake_lane answers the plain ones of a tenant
    # key first, through the same order_submission and placed_answer.
    # Two dependencies rather than six: each costs the busiest route of all some CPU.
    submission = order_submission(body, caller, app.settings, idempotency_key)
    if submission.command.store_location is not None:
        # A till sale: sold and handed over in one transaction (oms.services.pos).
        placed = await run_in_threadpool(
            sell_at_till, app.uow_factory, app.gateways, app.geocoder, submission
        )
    elif groupable(submission.command, idempotency_key, app.gateways):
        # With the orders that arrive meanwhile, in one transaction (oms.api.intake_groups).
        placed = await app.intake.place(submission)
    else:
        placed = await run_in_threadpool(
            place_alone, app.uow_factory, app.gateways, app.geocoder, submission
        )
    return placed_answer(placed)


def order_submission(
    body: OrderCreate, caller: Caller, settings: Settings, idempotency_key: str | None
) -> Submission:
    """What placing ``body`` takes, checked against the limits of ``settings``."""
    if len(body.lines) > settings.max_order_lines:
        raise InvalidRequest(
            "Too many lines",
            [FieldError("#/lines", f"at most {settings.max_order_lines} lines per order")],
        )
    return Submission(
        tenant_id=caller.tenant_id,
        command=body.to_command(),
        actor=caller.actor,
        at=utcnow(),
        idempotency_key=idempotency_key,
        # Only a key is ever compared with a fingerprint: none to compute without one.
        fingerprint="" if idempotency_key is None else _fingerprint(body),
    )


def placed_answer(placed: PlacedOrder) -> Response:
    """201 with the new order, or 200 with the order that already existed."""
    # Serialised here, once: returned as a model, FastAPI would validate it again first.
    return Response(
        content=OrderRead.of(placed.order).model_dump_json(),
        status_code=create_status(placed.created),
        media_type="application/json",
        headers={"Location": f"/v1/orders/{placed.order.id}", "ETag": etag_of(placed.order)},
    )


def _order_cursor(cursor: str) -> UUID:
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest(
            "The cursor is not valid", [FieldError("query:cursor", "not a cursor from this API")]
        ) from None


@router.get("", response_model=Page[OrderRead])
def list_orders(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    status: OrderStatus | None = None,
    channel: Annotated[str | None, Query(max_length=lengths.CHANNEL)] = None,
    customer_email: Annotated[str | None, Query(max_length=lengths.EMAIL)] = None,
    created_from: UtcTime | None = None,
    created_to: UtcTime | None = None,
) -> Page[OrderRead]:
    """Orders newest first; filters combine with AND."""
    found = orders.list_orders(
        uow_factory=uow,
        tenant_id=tenant_id,
        filters=OrderFilter(
            status=None if status is None else status.value,
            channel=channel,
            customer_email=None if customer_email is None else customer_email.lower(),
            created_from=created_from,
            created_to=created_to,
        ),
        before_id=None if page.cursor is None else _order_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(
        found,
        page,
        item=lambda o: OrderRead.of(o, with_timeline=False),
        cursor=lambda o: str(o.id),
    )


@router.get("/{order_id}", response_model=OrderRead)
def get_order(order_id: str, tenant_id: TenantId, uow: UowDep, response: Response) -> OrderRead:
    """One order with everything about it; the ETag header is its version (for If-Match)."""
    order, open_returns = orders.get_order_with_open_returns(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order")
    )
    response.headers["ETag"] = etag_of(order)
    return OrderRead.of(order, open_returns=open_returns)


@router.post("/{order_id}/cancel", response_model=OrderRead)
def cancel_order(
    order_id: str,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    body: CancelRequest | None = None,
) -> OrderRead:
    """Cancel every unshipped unit and release its stock; repeating it changes nothing. What
    was paid is refunded or left as a refund_due item, by the tenant's overpayment policy."""
    order = orders.cancel_order(
        uow_factory=uow,
        gateways=gateways,
        tenant_id=tenant_id,
        order_id=parse_uuid(order_id, "order"),
        actor=actor,
        reason=None if body is None else body.reason,
    )
    return OrderRead.of(order)
