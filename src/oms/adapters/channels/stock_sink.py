"""What the stores' stock sinks share (``shopify_stock``, ``woocommerce_stock``,
``magento2_stock``): which connection a ``channel.stock_push`` message goes to, the store's
SKU of each of ours, and the sync log line of each attempt."""

from __future__ import annotations

from uuid import UUID

from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.services.channels import ChannelRepository, log_sync
from oms.services.common import utcnow
from oms.services.events import Event
from oms.services.stock_push import STOCK_PUSH_TOPIC

__all__ = ["log_stock_push", "stock_push_connection", "store_skus"]


def stock_push_connection(
    channels: ChannelRepository, event: Event, kind: ChannelKind, key: str | None = None
) -> ChannelConnection | None:
    """The connection a ``channel.stock_push`` message names, when it is a ``kind``
    connection with ``push_stock`` on (and, given ``key``, the one it names)."""
    if event.type != STOCK_PUSH_TOPIC:
        return None
    try:
        channel_id = UUID(str(event.data.get("channel_id")))
    except ValueError:
        return None
    connection = channels.get(event.tenant_id, channel_id)
    if connection is None or connection.kind is not kind or not connection.push_stock:
        return None
    if key is not None and key != str(connection.id):
        return None
    return connection


def store_skus(connection: ChannelConnection) -> dict[str, str]:
    """Our SKU -> the store's (the connection's ``sku_mapping`` read backwards)."""
    return {ours: store for store, ours in connection.sku_mapping.items()}


def log_stock_push(
    channels: ChannelRepository,
    *,
    tenant_id: UUID,
    channel_id: UUID,
    operation: str,
    outcome: SyncOutcome,
    detail: str,
) -> None:
    """One outbound line in the connection's sync log (none once it is deleted)."""
    connection = channels.get(tenant_id, channel_id)
    if connection is None:
        return
    log_sync(
        channels=channels,
        connection=connection,
        direction=SyncDirection.OUTBOUND,
        operation=operation,
        outcome=outcome,
        at=utcnow(),
        detail=detail[:500],
    )
