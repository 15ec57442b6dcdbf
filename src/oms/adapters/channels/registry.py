"""The adapter of each channel kind; kinds without one yet take no webhooks."""

from __future__ import annotations

from oms.adapters.channels.magento import MagentoChannel
from oms.adapters.channels.shopify import ShopifyChannel
from oms.adapters.channels.woocommerce import WooCommerceChannel
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.domain.errors import NotFound
from oms.services.channels import SalesChannel

__all__ = ["sales_channel_of"]


def sales_channel_of(connection: ChannelConnection) -> SalesChannel:
    """The adapter speaking to ``connection``'s store; NotFound for a kind without one."""
    if connection.kind is ChannelKind.SHOPIFY:
        return ShopifyChannel(connection)
    if connection.kind is ChannelKind.WOOCOMMERCE:
        return WooCommerceChannel(connection)
    if connection.kind is ChannelKind.MAGENTO2:
        return MagentoChannel(connection)
    raise NotFound(f"{connection.kind.value} channels have no adapter yet")
