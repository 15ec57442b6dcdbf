"""What the stores' stock sinks share (``shopify_stock``, ``woocommerce_stock``,
``magento2_stock``): which connection a ``channel.stock_push`` message goes to, the store's
SKU of each of ours, the sync log line of each attempt, and (the REST stores: WooCommerce,
Magento) one attempt's outcome."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from oms.adapters.channels.store_http import StoreCallFailed
from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.services.channels import ChannelRepository, PayloadRefused, log_sync
from oms.services.common import utcnow
from oms.services.events import Event, Outcome
from oms.services.stock_push import STOCK_PUSH_TOPIC

__all__ = ["log_stock_push", "stock_push_connection", "store_attempt", "store_skus"]


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


def store_attempt(push: Callable[[], str], log: Callable[[SyncOutcome, str], None]) -> Outcome:
    """Run one attempt of a REST store push (``push`` returns what it did) and log it: a
    ``StoreCallFailed`` is the attempt's outcome (the outbox retries unless ``final``); an
    answer that is not what the store documents, or that refuses what was sent
    (``PayloadRefused``), cannot get better by retrying and ends the delivery."""
    started = time.perf_counter()
    try:
        detail = push()
    except StoreCallFailed as failed:
        status, final, problem = failed.status, failed.final, str(failed)
    except PayloadRefused as refused:
        status, final, problem = 200, True, str(refused)
    else:
        log(SyncOutcome.OK, detail)
        return Outcome(
            delivered=True, status_code=200, latency_ms=(time.perf_counter() - started) * 1000
        )
    log(SyncOutcome.FAILED, problem)
    return Outcome(
        delivered=False,
        status_code=status,
        error=problem[:500],
        latency_ms=(time.perf_counter() - started) * 1000,
        final=final,
    )
