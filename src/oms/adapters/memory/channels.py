"""In-memory channel connections and a fake store, for use-case tests and the demo."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from oms.domain.channels import ChannelConnection, ChannelHealth, ChannelKind, SyncEntry
from oms.services.channels import ChannelOrder

__all__ = ["FakeSalesChannel", "InMemoryChannelRepository"]


class InMemoryChannelRepository:
    """``ChannelRepository`` in dicts, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[UUID, ChannelConnection] = {}
        self._log: dict[UUID, list[SyncEntry]] = {}
        self._versions: dict[tuple[UUID, UUID, str], datetime] = {}
        self._items: dict[tuple[UUID, UUID, str], str] = {}

    def _name_taken(self, connection: ChannelConnection) -> bool:
        return any(
            c.tenant_id == connection.tenant_id
            and c.name == connection.name
            and c.id != connection.id
            for c in self._connections.values()
        )

    def add(self, connection: ChannelConnection) -> bool:
        with self._lock:
            if self._name_taken(connection):
                return False
            self._connections[connection.id] = replace(connection)
            self._log[connection.id] = []
            return True

    def get(self, tenant_id: UUID, channel_id: UUID) -> ChannelConnection | None:
        found = self._connections.get(channel_id)
        return replace(found) if found is not None and found.tenant_id == tenant_id else None

    def find(self, channel_id: UUID) -> ChannelConnection | None:
        found = self._connections.get(channel_id)
        return None if found is None else replace(found)

    def page(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[ChannelConnection]:
        mine = sorted(
            (c for c in self._connections.values() if c.tenant_id == tenant_id),
            key=lambda c: c.id,
        )
        return [replace(c) for c in mine if after_id is None or c.id > after_id][:limit]

    def save(self, connection: ChannelConnection) -> bool:
        with self._lock:
            if self._name_taken(connection):
                return False
            self._connections[connection.id] = replace(connection)
            return True

    def delete(self, tenant_id: UUID, channel_id: UUID) -> bool:
        with self._lock:
            found = self._connections.get(channel_id)
            if found is None or found.tenant_id != tenant_id:
                return False
            del self._connections[channel_id]
            self._log.pop(channel_id, None)
            return True

    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None:
        with self._lock:
            found = self._connections.get(entry.channel_id)
            if found is None or found.tenant_id != tenant_id:
                return
            self._log[entry.channel_id].append(entry)
            found.last_synced_at = entry.at
            if health is not None:
                found.health = health
                found.health_detail = entry.detail

    def entries(self, tenant_id: UUID, channel_id: UUID, *, limit: int) -> list[SyncEntry]:
        if self.get(tenant_id, channel_id) is None:
            return []
        return list(reversed(self._log.get(channel_id, [])))[:limit]

    def advance_order(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> bool:
        key = (tenant_id, channel_id, external_id)
        with self._lock:
            stored = self._versions.get(key)
            if stored is not None and stored >= updated_at:
                return False
            self._versions[key] = updated_at
            return True

    def stock_pushers(self) -> list[ChannelConnection]:
        with self._lock:
            return [c for c in self._connections.values() if c.push_stock]

    def inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> dict[str, str]:
        with self._lock:
            return {
                sku: self._items[tenant_id, channel_id, sku]
                for sku in skus
                if (tenant_id, channel_id, sku) in self._items
            }

    def remember_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, items: Mapping[str, str], at: datetime
    ) -> None:
        with self._lock:
            for sku, item_id in items.items():
                self._items[tenant_id, channel_id, sku] = item_id

    def forget_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> None:
        with self._lock:
            for sku in skus:
                self._items.pop((tenant_id, channel_id, sku), None)


@dataclass
class FakeSalesChannel:
    """A store that signs with a shared word and sends the ``ChannelOrder`` values it holds.

    ``orders`` by topic name; a webhook's raw body is the order's external id.
    """

    secret: str = "fake-secret"  # noqa: S105 (a test double's)
    orders: dict[str, ChannelOrder] = field(default_factory=dict)
    kind: ChannelKind = ChannelKind.API

    def is_handshake(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """The fake store sends none."""
        return False

    def verify_webhook(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        return headers.get("x-fake-signature") == self.secret

    def order_of_webhook(self, *, topic: str, raw_body: bytes) -> ChannelOrder | None:
        return self.orders.get(raw_body.decode())

    def orders_since(self, since: datetime) -> Iterator[ChannelOrder]:
        yield from sorted(
            (o for o in self.orders.values() if o.updated_at >= since),
            key=lambda o: o.updated_at,
        )
