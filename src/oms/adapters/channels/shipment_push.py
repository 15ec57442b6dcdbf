"""What the stores' shipment pushes share (Shopify, WooCommerce, Magento): which connection
a ``shipment.created`` event goes back to, the shipment's contents in the store's SKUs, the
sinks' common skeleton (``ShipmentSink``: ``subscribers`` and ``prepare``; each store
says what it sends and how), and the sync log line of each attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.domain.orders import Order
from oms.services.channels import ChannelRepository, log_sync
from oms.services.common import utcnow
from oms.services.events import Event
from oms.services.ports import UnitOfWork

__all__ = ["ShipmentOfStore", "ShipmentSink", "log_push", "shipment_of_store"]


@dataclass(frozen=True)
class ShipmentOfStore:
    """A shipment of a store's order: the connection, the order, what the parcel holds."""

    connection: ChannelConnection
    order: Order
    external_id: str
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    items: tuple[tuple[str, int], ...]  # the store's SKU, quantity


def shipment_of_store(
    uow: UnitOfWork,
    channels: ChannelRepository,
    event: Event,
    kind: ChannelKind,
    key: str | None = None,
) -> ShipmentOfStore | None:
    """The shipment, when ``event`` is a ``shipment.created`` of an order that came from a
    ``kind`` connection pushing fulfilments (that connection, or the one named ``key``)."""
    if event.type != "shipment.created":
        return None
    order = uow.orders.get(event.tenant_id, event.aggregate_id)
    if order is None or order.external_id is None:
        return None
    channel_kind, _, rest = order.channel.partition(":")
    if channel_kind != kind.value:
        return None
    try:
        channel_id = UUID(rest)
    except ValueError:
        return None
    if key is not None and key != str(channel_id):
        return None
    connection = channels.get(event.tenant_id, channel_id)
    if connection is None or connection.kind is not kind or not connection.push_fulfilments:
        return None
    theirs = {ours: store for store, ours in connection.sku_mapping.items()}
    data = event.data
    return ShipmentOfStore(
        connection=connection,
        order=order,
        external_id=order.external_id,
        carrier=str(data.get("carrier") or ""),
        service=str(data.get("service") or ""),
        tracking_number=str(data.get("tracking_number") or ""),
        tracking_url=str(data.get("tracking_url") or ""),
        items=tuple(
            (theirs.get(str(item["sku"]), str(item["sku"])), int(item["quantity"]))
            for item in data.get("contents", [])
        ),
    )


class ShipmentSink:
    """The skeleton of an ``EventSink`` that sends shipments back to one kind of store:
    ``subscribers`` names the connection a shipment of its order goes back to (a
    ``channel_kind`` connection pushing fulfilments), ``prepare`` hands the shipment to
    ``push_of``, which says what the store is sent; ``send`` and ``close`` are the store's."""

    kind: ClassVar[str]
    channel_kind: ClassVar[ChannelKind]

    def __init__(self, *, channels: ChannelRepository) -> None:
        self._channels = channels

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        found = shipment_of_store(uow, self._channels, event, self.channel_kind)
        return [] if found is None else [str(found.connection.id)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        found = shipment_of_store(uow, self._channels, event, self.channel_kind, key)
        return None if found is None else self.push_of(found)

    def push_of(self, shipment: ShipmentOfStore) -> object:
        """What one attempt sends for ``shipment`` (read before every attempt)."""
        raise NotImplementedError


def log_push(
    channels: ChannelRepository,
    *,
    tenant_id: UUID,
    channel_id: UUID,
    operation: str,
    outcome: SyncOutcome,
    detail: str,
    external_id: str,
    order_id: UUID,
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
        external_id=external_id,
        order_id=order_id,
    )
