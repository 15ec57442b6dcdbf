"""Stock levels out to the stores: which changed levels each channel is told of, and when.

Every change of a level's quantities (a reservation, a release, an adjustment, a receipt,
a shipment, a count...) leaves a marker per (tenant, SKU, location) in the same
transaction (``InventoryRepository`` writes it; ``stock_changes``). Markers coalesce: a
marker keeps its first change's moment, so however often a SKU moves it is one marker.

    stock change ──▶ marker (tenant, SKU, location; first changed_at)
                        │ oms worker, every few seconds: ``queue_stock_pushes``
                        ▼ markers older than the debounce window, claimed and removed
    per channel pushing stock (``push_stock``) and selling that location (``location_codes``):
                        ▼ one outbox message ``channel.stock_push`` per 250 levels
    the channel's sink (e.g. ``shopify_stock``) reads each level's available quantity
    when it sends (the latest figure, at every retry) and sets it in the store.

So many changes of one SKU within the window are one push with the latest figure, many
SKUs are one request, and the outbox's retries (at least once, with backoff) carry a push
through a store that is down for a while.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from oms.domain.channels import ChannelConnection
from oms.services.channels import ChannelRepository
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "DEBOUNCE",
    "LEVELS_PER_PUSH",
    "STOCK_PUSH_TOPIC",
    "StockChange",
    "StockChangeRepository",
    "StockPush",
    "available_figures",
    "levels_of_message",
    "plan_stock_pushes",
    "queue_stock_pushes",
]

STOCK_PUSH_TOPIC = "channel.stock_push"
# Levels per push: one store request each (Shopify's inventorySetQuantities takes a list).
LEVELS_PER_PUSH = 250
# A level is pushed this long after its first change, with the figure it has then.
DEBOUNCE = timedelta(seconds=5)


@dataclass(frozen=True)
class StockChange:
    """A level whose quantities changed since it was last handed to the stores."""

    tenant_id: UUID
    sku: str
    location_id: UUID
    changed_at: datetime


class StockChangeRepository(Protocol):
    """The markers of changed levels (written by ``InventoryRepository`` with each change)."""

    def claim_due(self, *, changed_before: datetime, limit: int) -> list[StockChange]:
        """Remove and return up to ``limit`` markers first changed at or before
        ``changed_before``, oldest first; two workers never claim the same one. A change
        after the claim leaves a new marker."""
        ...


@dataclass(frozen=True)
class StockPush:
    """One push to one channel: the levels (SKU, location) whose figures it is sent."""

    tenant_id: UUID
    channel_id: UUID
    levels: tuple[tuple[str, UUID], ...]

    def message(self, at: datetime) -> OutboxMessage:
        return OutboxMessage(
            topic=STOCK_PUSH_TOPIC,
            aggregate_id=self.channel_id,
            payload={
                "channel_id": str(self.channel_id),
                "levels": [[sku, str(location_id)] for sku, location_id in self.levels],
            },
            created_at=at,
        )


def levels_of_message(payload: Mapping[str, Any]) -> list[tuple[str, UUID]]:
    """The levels a ``channel.stock_push`` message names."""
    return [(str(sku), UUID(str(location))) for sku, location in payload.get("levels", [])]


def _sells(connection: ChannelConnection, location_code: str | None) -> bool:
    if location_code is None:
        return False
    return not connection.location_codes or location_code in connection.location_codes


def plan_stock_pushes(
    changes: Iterable[StockChange],
    connections: Mapping[UUID, Sequence[ChannelConnection]],
    location_codes: Mapping[UUID, str],
    *,
    per_push: int = LEVELS_PER_PUSH,
) -> list[StockPush]:
    """The pushes ``changes`` make: for each tenant's connection with ``push_stock`` on,
    the changed levels at the locations it sells (``location_codes``; empty: every one),
    each level once, in (SKU, location) order, ``per_push`` at most in one push."""
    by_tenant: dict[UUID, set[tuple[str, UUID]]] = {}
    for change in changes:
        by_tenant.setdefault(change.tenant_id, set()).add((change.sku, change.location_id))
    pushes: list[StockPush] = []
    for tenant_id in sorted(by_tenant):
        levels = sorted(by_tenant[tenant_id], key=lambda level: (level[0], str(level[1])))
        for connection in sorted(connections.get(tenant_id, ()), key=lambda c: c.id):
            if not connection.push_stock:
                continue
            sold = [lv for lv in levels if _sells(connection, location_codes.get(lv[1]))]
            for start in range(0, len(sold), per_push):
                pushes.append(
                    StockPush(tenant_id, connection.id, tuple(sold[start : start + per_push]))
                )
    return pushes


def queue_stock_pushes(
    *,
    uow_factory: UnitOfWorkFactory,
    channels: ChannelRepository,
    now: datetime,
    window: timedelta = DEBOUNCE,
    limit: int = 5000,
) -> int:
    """Claim the markers older than ``window`` and write the pushes they make to the
    outbox, in one transaction (markers of tenants with no channel pushing stock are
    dropped); the number of pushes written. The connections are read first, outside it."""
    connections: dict[UUID, list[ChannelConnection]] = {}
    for connection in channels.stock_pushers():
        connections.setdefault(connection.tenant_id, []).append(connection)
    with uow_factory() as uow:
        due = uow.stock_changes.claim_due(changed_before=now - window, limit=limit)
        if not due:
            return 0
        tenants = sorted({change.tenant_id for change in due})
        codes = {
            location.id: location.code
            for tenant_id in tenants
            if connections.get(tenant_id)
            for location in uow.locations.visible_to(tenant_id)
        }
        pushes = plan_stock_pushes(due, connections, codes)
        for tenant_id in tenants:
            messages = [push.message(now) for push in pushes if push.tenant_id == tenant_id]
            if messages:
                uow.outbox.add_many(tenant_id, messages)
        uow.commit()
    return len(pushes)


def available_figures(
    uow: UnitOfWork, tenant_id: UUID, levels: Sequence[tuple[str, UUID]]
) -> dict[tuple[str, UUID], int]:
    """What each level has available now (on hand less reserved less safety stock, never
    below 0; a level with no row: 0): the figure a store is sent."""
    figures = dict.fromkeys(levels, 0)
    if not levels:
        return figures
    found = uow.inventory.levels(
        tenant_id, {sku for sku, _ in levels}, sorted({loc for _, loc in levels}, key=str)
    )
    for level in found:
        key = (level.sku, level.location_id)
        if key in figures:
            figures[key] = level.available
    return figures
