"""Connections kept briefly in each process, so a store's webhook does not read its
connection (a transaction, and decrypting its credentials) every time.

``CachedChannels`` is a ``ChannelRepository`` that keeps what ``find`` and ``get`` read
for ``ttl`` seconds. A connection changed or deleted through it (``PATCH`` or ``DELETE
/v1/channels/{id}`` in this process) is forgotten at once; one changed through another
process is used here for at most ``ttl`` seconds more. Credentials stay encrypted at rest:
only this process's memory holds them in plain text, as it does while it uses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from oms.domain.channels import ChannelConnection, ChannelHealth, SyncEntry
from oms.services.channels import ChannelRepository

__all__ = ["CONNECTION_TTL", "CachedChannels"]

CONNECTION_TTL = 5.0
"""Seconds a connection read is used for, in each process."""


class CachedChannels:
    """``ChannelRepository`` with a short-lived cache of connections by id."""

    def __init__(
        self,
        inner: ChannelRepository,
        *,
        ttl: float = CONNECTION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._kept: dict[UUID, tuple[float, ChannelConnection]] = {}

    def fresh(self, channel_id: UUID) -> ChannelConnection | None:
        """The kept connection while it is fresh; None otherwise (nothing is read)."""
        kept = self._kept.get(channel_id)
        if kept is None or kept[0] <= self._clock():
            return None
        return kept[1]

    def forget(self, channel_id: UUID) -> None:
        self._kept.pop(channel_id, None)

    def _keep(self, found: ChannelConnection | None, channel_id: UUID) -> None:
        if found is None:
            self.forget(channel_id)
        else:
            self._kept[channel_id] = (self._clock() + self._ttl, found)

    def find(self, channel_id: UUID) -> ChannelConnection | None:
        kept = self.fresh(channel_id)
        if kept is not None:
            return kept
        found = self._inner.find(channel_id)
        self._keep(found, channel_id)
        return found

    def get(self, tenant_id: UUID, channel_id: UUID) -> ChannelConnection | None:
        return self._inner.get(tenant_id, channel_id)

    def save(self, connection: ChannelConnection) -> bool:
        self.forget(connection.id)
        try:
            return self._inner.save(connection)
        finally:
            self.forget(connection.id)  # a find meanwhile may have kept the old one

    def delete(self, tenant_id: UUID, channel_id: UUID) -> bool:
        self.forget(channel_id)
        try:
            return self._inner.delete(tenant_id, channel_id)
        finally:
            self.forget(channel_id)

    # The rest as the repository does it.

    def add(self, connection: ChannelConnection) -> bool:
        return self._inner.add(connection)

    def page(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[ChannelConnection]:
        return self._inner.page(tenant_id, after_id=after_id, limit=limit)

    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None:
        self._inner.log(tenant_id, entry, health)

    def entries(self, tenant_id: UUID, channel_id: UUID, *, limit: int) -> list[SyncEntry]:
        return self._inner.entries(tenant_id, channel_id, limit=limit)

    def advance_order(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> bool:
        return self._inner.advance_order(
            tenant_id, channel_id, external_id, order_id=order_id, updated_at=updated_at
        )

    def stock_pushers(self) -> list[ChannelConnection]:
        return self._inner.stock_pushers()

    def inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> dict[str, str]:
        return self._inner.inventory_items(tenant_id, channel_id, skus)

    def remember_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, items: Mapping[str, str], at: datetime
    ) -> None:
        self._inner.remember_inventory_items(tenant_id, channel_id, items, at)

    def forget_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> None:
        self._inner.forget_inventory_items(tenant_id, channel_id, skus)
