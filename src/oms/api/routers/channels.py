"""/v1/channels: a tenant's store connections; /channels/{id}/shopify/webhooks and
/channels/{id}/woocommerce/webhooks: what the stores send (signed by the store, so no API
key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response, status
from starlette.concurrency import run_in_threadpool

from oms.api.deps import (
    AppDep,
    AppState,
    PageDep,
    TenantId,
    page_of,
    page_of_all,
    parse_uuid,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.channels import (
    CREDENTIAL_NAMES,
    SETTING_NAMES,
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    SyncEntryRead,
    split_create,
)
from oms.api.schemas.common import Page
from oms.api.store_webhooks import receive_delivery
from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.domain.errors import FieldError, InvalidRequest, NotFound, Unauthenticated
from oms.services import channels as channel_service
from oms.services.channel_cache import CachedChannels
from oms.services.channels import (
    ChannelChanges,
    PayloadRefused,
    SalesChannelFactory,
)
from oms.services.common import utcnow

__all__ = ["ChannelState", "router", "store_router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/channels", tags=["channels"])
store_router = APIRouter(route_class=OneHopRoute, prefix="/channels", tags=["channels"])


@dataclass(frozen=True)
class ChannelState:
    """What the channel routes need beside ``AppState``: the connections, the adapters."""

    channels: CachedChannels  # connections kept briefly (oms.services.channel_cache)
    adapters: SalesChannelFactory


async def _channel_state(request: Request) -> ChannelState:
    state: ChannelState = request.app.state.channels
    return state


ChannelsDep = Annotated[ChannelState, Depends(_channel_state)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChannelRead)
def create_channel(
    body: Annotated[ChannelCreate, Body()],
    tenant_id: TenantId,
    state: ChannelsDep,
    response: Response,
) -> ChannelRead:
    """Connect a store; its credentials are stored encrypted and never shown again."""
    kind, settings, credentials = split_create(body)
    connection = channel_service.create_channel(
        channels=state.channels,
        tenant_id=tenant_id,
        kind=kind,
        name=body.name,
        settings=settings,
        credentials=credentials,
        location_codes=body.location_codes,
        sku_mapping=body.sku_mapping,
        push_fulfilments=body.push_fulfilments,
        push_stock=body.push_stock,
    )
    response.headers["Location"] = f"/v1/channels/{connection.id}"
    return ChannelRead.of(connection)


@router.get("", response_model=Page[ChannelRead])
def list_channels(tenant_id: TenantId, state: ChannelsDep, page: PageDep) -> Page[ChannelRead]:
    found = channel_service.list_channels(
        channels=state.channels,
        tenant_id=tenant_id,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(found, page, item=ChannelRead.of, cursor=lambda c: str(c.id))


@router.get("/{channel_id}", response_model=ChannelRead)
def get_channel(channel_id: str, tenant_id: TenantId, state: ChannelsDep) -> ChannelRead:
    return ChannelRead.of(
        channel_service.get_channel(
            channels=state.channels,
            tenant_id=tenant_id,
            channel_id=parse_uuid(channel_id, "channel"),
        )
    )


@router.patch("/{channel_id}", response_model=ChannelRead)
def update_channel(
    channel_id: str, body: ChannelUpdate, tenant_id: TenantId, state: ChannelsDep
) -> ChannelRead:
    """Change what is given; credentials given replace the stored ones of those names."""
    given = body.model_dump(exclude_none=True)
    changes = ChannelChanges(
        name=body.name,
        settings={k: given[k] for k in SETTING_NAMES if k in given} or None,
        credentials={k: given[k] for k in CREDENTIAL_NAMES if k in given} or None,
        location_codes=None if body.location_codes is None else tuple(body.location_codes),
        sku_mapping=body.sku_mapping,
        push_fulfilments=body.push_fulfilments,
        push_stock=body.push_stock,
    )
    return ChannelRead.of(
        channel_service.update_channel(
            channels=state.channels,
            tenant_id=tenant_id,
            channel_id=parse_uuid(channel_id, "channel"),
            changes=changes,
        )
    )


@router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(channel_id: str, tenant_id: TenantId, state: ChannelsDep) -> Response:
    """Disconnect the store; the orders it brought in stay."""
    channel_service.delete_channel(
        channels=state.channels, tenant_id=tenant_id, channel_id=parse_uuid(channel_id, "channel")
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{channel_id}/sync-log", response_model=Page[SyncEntryRead])
def sync_log(
    channel_id: str, tenant_id: TenantId, state: ChannelsDep, page: PageDep
) -> Page[SyncEntryRead]:
    """What the connection received and sent (its last 500 entries), newest first."""
    entries = channel_service.sync_log(
        channels=state.channels,
        tenant_id=tenant_id,
        channel_id=parse_uuid(channel_id, "channel"),
        limit=500,
    )
    return page_of_all(
        entries,
        page,
        item=SyncEntryRead.of,
        cursor=lambda e: f"{e.at.isoformat()}|{e.id}",
        descending=True,
    )


async def _store_webhook(
    *,
    app: AppState,
    state: ChannelState,
    found: ChannelConnection,
    raw: bytes,
    topic: str,
    delivery_id: str | None,
    store: str,
) -> dict[str, Any]:
    """A verified delivery of a store: mapped by its adapter, then through the same intake
    as POST /v1/orders, exactly once however often it is sent."""
    adapter = state.adapters(found)
    operation = f"webhook {topic}"
    try:
        incoming = adapter.order_of_webhook(topic=topic, raw_body=raw)
    except PayloadRefused as error:
        channel_service.log_sync(
            channels=state.channels,
            connection=found,
            direction=SyncDirection.INBOUND,
            operation=operation,
            outcome=SyncOutcome.FAILED,
            at=utcnow(),
            detail=f"{error} (webhook {delivery_id})",
        )
        raise InvalidRequest(
            f"The body is not a {store} order", [FieldError("#", str(error))]
        ) from None
    if incoming is None:
        return {"topic": topic, "handled": False}
    return await receive_delivery(
        app=app, channels=state.channels, found=found, incoming=incoming, topic=topic
    )


async def _connection_of_kind(
    state: ChannelState, channel_id: str, kind: ChannelKind, store: str
) -> ChannelConnection:
    wanted = parse_uuid(channel_id, "channel")
    found = state.channels.fresh(wanted) or await run_in_threadpool(state.channels.find, wanted)
    if found is None or found.kind is not kind:
        raise NotFound(f"No such {store} channel", channel_id=channel_id)
    return found


@store_router.post("/{channel_id}/shopify/webhooks", include_in_schema=True)
async def shopify_webhook(
    channel_id: str, request: Request, app: AppDep, state: ChannelsDep
) -> dict[str, Any]:
    """A Shopify ``orders/*`` webhook: the signature is checked on the raw body first (401
    and nothing stored when it fails); the order goes through the same intake as POST
    /v1/orders, exactly once however often it is sent."""
    raw = await request.body()
    found = await _connection_of_kind(state, channel_id, ChannelKind.SHOPIFY, "Shopify")
    if not state.adapters(found).verify_webhook(raw_body=raw, headers=request.headers):
        raise Unauthenticated("The X-Shopify-Hmac-Sha256 signature does not match the body")
    return await _store_webhook(
        app=app,
        state=state,
        found=found,
        raw=raw,
        topic=request.headers.get("x-shopify-topic", ""),
        delivery_id=request.headers.get("x-shopify-webhook-id"),
        store="Shopify",
    )


@store_router.post("/{channel_id}/woocommerce/webhooks", include_in_schema=True)
async def woocommerce_webhook(
    channel_id: str, request: Request, app: AppDep, state: ChannelsDep
) -> dict[str, Any]:
    """A WooCommerce ``order.created`` / ``order.updated`` webhook: ``X-WC-Webhook-Signature``
    is checked on the raw body first (401 and nothing stored when it fails); the ping sent
    when the webhook is saved is answered 200 and stores nothing."""
    raw = await request.body()
    found = await _connection_of_kind(state, channel_id, ChannelKind.WOOCOMMERCE, "WooCommerce")
    if state.adapters(found).is_handshake(raw_body=raw, headers=request.headers):
        return {"topic": None, "handled": False, "ping": True}
    if not state.adapters(found).verify_webhook(raw_body=raw, headers=request.headers):
        raise Unauthenticated("The X-WC-Webhook-Signature signature does not match the body")
    return await _store_webhook(
        app=app,
        state=state,
        found=found,
        raw=raw,
        topic=request.headers.get("x-wc-webhook-topic", ""),
        delivery_id=request.headers.get("x-wc-webhook-delivery-id"),
        store="WooCommerce",
    )
