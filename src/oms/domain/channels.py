"""Sales channel connections: a tenant's stores (Shopify, WooCommerce, Magento 2), its own
API and CSV files, each a connection with settings, secret credentials, a health status
and a sync log.

Credentials are plain only in memory: the repository stores them encrypted and the API
never returns them (``ChannelConnection.credentials`` is for the adapters alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

__all__ = [
    "CREDENTIAL_FIELDS",
    "SETTING_FIELDS",
    "ChannelConnection",
    "ChannelHealth",
    "ChannelKind",
    "SyncDirection",
    "SyncEntry",
    "SyncOutcome",
    "order_channel_of",
]


class ChannelKind(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    MAGENTO2 = "magento2"
    API = "api"
    CSV = "csv"


class ChannelHealth(StrEnum):
    UNKNOWN = "unknown"  # nothing received or sent yet
    HEALTHY = "healthy"  # the last exchange succeeded
    FAILING = "failing"  # the last exchange failed (the sync log says how)


class SyncDirection(StrEnum):
    INBOUND = "inbound"  # orders in: webhooks, backfills
    OUTBOUND = "outbound"  # fulfilments and stock out


class SyncOutcome(StrEnum):
    OK = "ok"
    IGNORED = "ignored"  # a duplicate or an update older than what is stored
    FAILED = "failed"


# Per kind: the secret fields of a connection (encrypted at rest, never returned) and its
# other fields (returned as they are).
CREDENTIAL_FIELDS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.SHOPIFY: ("access_token", "webhook_secret"),
    ChannelKind.WOOCOMMERCE: ("consumer_key", "consumer_secret", "webhook_secret"),
    ChannelKind.MAGENTO2: ("access_token",),
    ChannelKind.API: (),
    ChannelKind.CSV: (),
}
SETTING_FIELDS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.SHOPIFY: ("shop_domain", "api_base_url", "shopify_locations"),
    ChannelKind.WOOCOMMERCE: ("store_url",),
    ChannelKind.MAGENTO2: ("base_url", "magento_sources"),
    ChannelKind.API: (),
    ChannelKind.CSV: (),
}


def order_channel_of(kind: ChannelKind, channel_id: UUID) -> str:
    """The ``channel`` its orders carry: fixed at creation, so renaming a connection never
    makes an order arrive twice (intake is exactly once per ``(channel, external_id)``)."""
    return f"{kind.value}:{channel_id}"


@dataclass
class ChannelConnection:
    """One store (or feed) a tenant sells through."""

    tenant_id: UUID
    id: UUID
    kind: ChannelKind
    name: str
    created_at: datetime
    updated_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    location_codes: tuple[str, ...] = ()  # whose stock it sells; empty: every location
    sku_mapping: dict[str, str] = field(default_factory=dict)  # the store's SKU -> ours
    push_fulfilments: bool = True
    push_stock: bool = False
    health: ChannelHealth = ChannelHealth.UNKNOWN
    health_detail: str | None = None
    last_synced_at: datetime | None = None

    @property
    def order_channel(self) -> str:
        """The ``channel`` of the orders it brings in."""
        return order_channel_of(self.kind, self.id)

    def our_sku(self, sku: str) -> str:
        """The catalogue's SKU for the store's ``sku`` (mapped, or the same)."""
        return self.sku_mapping.get(sku, sku)


@dataclass(frozen=True)
class SyncEntry:
    """One line of a connection's sync log."""

    id: UUID
    channel_id: UUID
    at: datetime
    direction: SyncDirection
    operation: str  # e.g. "webhook orders/create", "backfill"
    outcome: SyncOutcome
    detail: str | None = None
    external_id: str | None = None
    order_id: UUID | None = None
