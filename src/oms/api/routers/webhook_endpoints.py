"""/v1/webhook-endpoints: where a tenant's events are POSTed, and how each went."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from oms.api.deps import AppState, PageDep, TenantId, UowDep, page_of, parse_uuid, uuid_cursor
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.api.schemas.webhooks import (
    DeliveryRead,
    ReplayRequest,
    ReplayResult,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)
from oms.domain.delivery_schedule import DeliveryStatus
from oms.services import webhook_endpoints as endpoints
from oms.services.webhook_endpoints import AddressCheck

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/webhook-endpoints", tags=["webhooks"])


async def _address_check(request: Request) -> AddressCheck:
    state: AppState = request.app.state.oms
    return state.webhook_addresses


AddressCheckDep = Annotated[AddressCheck, Depends(_address_check)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookEndpointCreated)
def create_endpoint(
    body: WebhookEndpointCreate,
    tenant_id: TenantId,
    uow: UowDep,
    check: AddressCheckDep,
    response: Response,
) -> WebhookEndpointCreated:
    """Subscribe a URL to event types; the answer carries its signing secret, shown this
    once (422 at #/url for a URL that is not http(s) or does not reach a public address)."""
    endpoint = endpoints.create_endpoint(
        uow_factory=uow,
        tenant_id=tenant_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        check=check,
    )
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return WebhookEndpointCreated.with_secret(endpoint)


@router.get("", response_model=Page[WebhookEndpointRead])
def list_endpoints(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[WebhookEndpointRead]:
    found = endpoints.list_endpoints(
        uow_factory=uow,
        tenant_id=tenant_id,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit,
    )
    return page_of(found, page, item=WebhookEndpointRead.of, cursor=lambda e: str(e.id))


@router.get("/{endpoint_id}", response_model=WebhookEndpointRead)
def get_endpoint(endpoint_id: str, tenant_id: TenantId, uow: UowDep) -> WebhookEndpointRead:
    return WebhookEndpointRead.of(
        endpoints.get_endpoint(
            uow_factory=uow,
            tenant_id=tenant_id,
            endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
        )
    )


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(endpoint_id: str, tenant_id: TenantId, uow: UowDep) -> Response:
    """Stop sending to this endpoint; its pending deliveries are cancelled."""
    endpoints.delete_endpoint(
        uow_factory=uow,
        tenant_id=tenant_id,
        endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookEndpointCreated)
def rotate_secret(endpoint_id: str, tenant_id: TenantId, uow: UowDep) -> WebhookEndpointCreated:
    """A new secret, shown in this answer only; for 24 hours every delivery is signed with
    the new and the previous one (two signatures in webhook-signature)."""
    return WebhookEndpointCreated.with_secret(
        endpoints.rotate_secret(
            uow_factory=uow,
            tenant_id=tenant_id,
            endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
        )
    )


@router.get("/{endpoint_id}/deliveries", response_model=Page[DeliveryRead])
def list_deliveries(
    endpoint_id: str,
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> Page[DeliveryRead]:
    """The endpoint's deliveries, newest first: status, attempts, last answer, latency."""
    found = endpoints.endpoint_deliveries(
        uow_factory=uow,
        tenant_id=tenant_id,
        endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
        status=delivery_status,
        before_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit,
    )
    return page_of(found, page, item=DeliveryRead.of, cursor=lambda d: str(d.id))


@router.get("/{endpoint_id}/deliveries/{delivery_id}", response_model=DeliveryRead)
def get_delivery(
    endpoint_id: str, delivery_id: str, tenant_id: TenantId, uow: UowDep
) -> DeliveryRead:
    """One delivery with every attempt."""
    found = endpoints.get_delivery(
        uow_factory=uow,
        tenant_id=tenant_id,
        endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
        delivery_id=parse_uuid(delivery_id, "delivery"),
    )
    return DeliveryRead.of(found.delivery, found.attempts)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/retry", response_model=DeliveryRead)
def retry_delivery(
    endpoint_id: str, delivery_id: str, tenant_id: TenantId, uow: UowDep
) -> DeliveryRead:
    """Send this delivery again now (a failed one gets a fresh retry schedule)."""
    return DeliveryRead.of(
        endpoints.retry_delivery(
            uow_factory=uow,
            tenant_id=tenant_id,
            endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
            delivery_id=parse_uuid(delivery_id, "delivery"),
        )
    )


@router.post("/{endpoint_id}/replay", response_model=ReplayResult)
def replay(endpoint_id: str, body: ReplayRequest, tenant_id: TenantId, uow: UowDep) -> ReplayResult:
    """Send again every event since ``since`` that this endpoint was sent (same webhook-id)."""
    return ReplayResult(
        scheduled=endpoints.replay_endpoint(
            uow_factory=uow,
            tenant_id=tenant_id,
            endpoint_id=parse_uuid(endpoint_id, "webhook endpoint"),
            since=body.since,
        )
    )
