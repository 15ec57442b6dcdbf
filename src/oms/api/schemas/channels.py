"""Sales channel connections: one create body per kind, a PATCH, what is read back.

Credentials go in and never come out: ``ChannelRead`` names which are stored, not their
values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import Strict
from oms.domain import lengths
from oms.domain.channels import (
    CREDENTIAL_FIELDS,
    SETTING_FIELDS,
    ChannelConnection,
    ChannelHealth,
    ChannelKind,
    SyncEntry,
)

__all__ = [
    "ApiChannelCreate",
    "ChannelCreate",
    "ChannelRead",
    "ChannelUpdate",
    "CsvChannelCreate",
    "Magento2ChannelCreate",
    "ShopifyChannelCreate",
    "SyncEntryRead",
    "WooCommerceChannelCreate",
]

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.NAME)
]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500),
]
ShopDomain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        pattern=r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$",
        max_length=255,
    ),
]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=lengths.SKU)]
LocationCode = Annotated[str, StringConstraints(min_length=1, max_length=lengths.LOCATION_CODE)]
ShopifyLocation = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=60, pattern=r"^(gid://shopify/Location/)?[0-9]+$"
    ),
]
# A Magento (MSI) source code: no whitespace (as Magento requires) and no control character.
MagentoSource = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s\x00-\x1f]+$")
]


class _Common(Strict):
    kind: Literal["shopify", "woocommerce", "magento2", "api", "csv"]
    name: Name
    location_codes: list[LocationCode] = Field(
        default_factory=list, description="Locations whose stock it sells; empty: every one"
    )
    sku_mapping: dict[Sku, Sku] = Field(
        default_factory=dict, description="The store's SKU -> the catalogue's, where they differ"
    )
    push_fulfilments: bool = True
    push_stock: bool = False


class ShopifyChannelCreate(_Common):
    kind: Literal["shopify"]
    shop_domain: ShopDomain = Field(description="e.g. my-shop.myshopify.com")
    access_token: Secret = Field(description="The custom app's Admin API access token")
    webhook_secret: Secret = Field(description="The app's API secret key, which signs webhooks")
    api_base_url: Url | None = Field(
        default=None, description="Defaults to https://<shop_domain>/admin/api/2025-01"
    )
    shopify_locations: dict[LocationCode, ShopifyLocation] | None = Field(
        default=None,
        description="Location code -> the Shopify location its stock is pushed to "
        "(gid://shopify/Location/<id> or the number)",
    )


class WooCommerceChannelCreate(_Common):
    kind: Literal["woocommerce"]
    store_url: Url
    consumer_key: Secret
    consumer_secret: Secret
    webhook_secret: Secret


class Magento2ChannelCreate(_Common):
    kind: Literal["magento2"]
    base_url: Url
    access_token: Secret
    magento_sources: dict[LocationCode, MagentoSource] | None = Field(
        default=None,
        description="Location code -> the Magento source its stock is pushed to "
        "(a location not named: its code as the source code)",
    )


class ApiChannelCreate(_Common):
    kind: Literal["api"]


class CsvChannelCreate(_Common):
    kind: Literal["csv"]


ChannelCreate = Annotated[
    ShopifyChannelCreate
    | WooCommerceChannelCreate
    | Magento2ChannelCreate
    | ApiChannelCreate
    | CsvChannelCreate,
    Field(discriminator="kind"),
]

SHOPIFY_API_VERSION = "2025-01"


def split_create(body: _Common) -> tuple[ChannelKind, dict[str, Any], dict[str, str]]:
    """The kind, settings and credentials of a create body."""
    kind = ChannelKind(body.kind)
    given = body.model_dump()
    settings = {k: given[k] for k in SETTING_FIELDS[kind] if given.get(k) is not None}
    if kind is ChannelKind.SHOPIFY and "api_base_url" not in settings:
        settings["api_base_url"] = f"https://{given['shop_domain']}/admin/api/{SHOPIFY_API_VERSION}"
    credentials = {k: given[k] for k in CREDENTIAL_FIELDS[kind]}
    return kind, settings, credentials


class ChannelUpdate(Strict):
    """Fields given are changed; a credential of another kind is refused (422)."""

    name: Name | None = None
    shop_domain: ShopDomain | None = None
    api_base_url: Url | None = None
    store_url: Url | None = None
    base_url: Url | None = None
    shopify_locations: dict[LocationCode, ShopifyLocation] | None = None
    magento_sources: dict[LocationCode, MagentoSource] | None = None
    access_token: Secret | None = None
    webhook_secret: Secret | None = None
    consumer_key: Secret | None = None
    consumer_secret: Secret | None = None
    location_codes: list[LocationCode] | None = None
    sku_mapping: dict[Sku, Sku] | None = None
    push_fulfilments: bool | None = None
    push_stock: bool | None = None


SETTING_NAMES = (
    "shop_domain",
    "api_base_url",
    "store_url",
    "base_url",
    "shopify_locations",
    "magento_sources",
)
CREDENTIAL_NAMES = ("access_token", "webhook_secret", "consumer_key", "consumer_secret")


class ChannelRead(BaseModel):
    id: UUID
    kind: ChannelKind
    name: str
    order_channel: str = Field(description="The channel its orders carry (GET /v1/orders?channel=)")
    settings: dict[str, Any]
    credentials_stored: list[str] = Field(
        description="Which credentials are stored (never their values)"
    )
    location_codes: list[str]
    sku_mapping: dict[str, str]
    push_fulfilments: bool
    push_stock: bool
    health: ChannelHealth
    health_detail: str | None
    last_synced_at: datetime | None
    webhook_path: str | None = Field(
        description="Where the store sends its webhooks (on this service)"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, connection: ChannelConnection) -> ChannelRead:
        return cls(
            id=connection.id,
            kind=connection.kind,
            name=connection.name,
            order_channel=connection.order_channel,
            settings=connection.settings,
            credentials_stored=sorted(connection.credentials),
            location_codes=list(connection.location_codes),
            sku_mapping=connection.sku_mapping,
            push_fulfilments=connection.push_fulfilments,
            push_stock=connection.push_stock,
            health=connection.health,
            health_detail=connection.health_detail,
            last_synced_at=connection.last_synced_at,
            webhook_path=f"/channels/{connection.id}/{connection.kind.value}/webhooks"
            if connection.kind in (ChannelKind.SHOPIFY, ChannelKind.WOOCOMMERCE)
            else None,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
        )


class SyncEntryRead(BaseModel):
    id: UUID
    at: datetime
    direction: str
    operation: str
    outcome: str
    detail: str | None
    external_id: str | None
    order_id: UUID | None

    @classmethod
    def of(cls, entry: SyncEntry) -> SyncEntryRead:
        return cls(
            id=entry.id,
            at=entry.at,
            direction=entry.direction.value,
            operation=entry.operation,
            outcome=entry.outcome.value,
            detail=entry.detail,
            external_id=entry.external_id,
            order_id=entry.order_id,
        )
