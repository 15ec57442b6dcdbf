"""The adapter of each channel kind; kinds without one yet take no webhooks."""

from __future__ import annotations

from oms.adapters.channels.shopify import ShopifyChannel
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.domain.errors import NotFound
from oms.services.channels import SalesChannel

__all__ = ["sales_channel_of"]


def sales_channel_of(connection: ChannelConnection) -> SalesChannel:
    """The adapter speaking to ``connection``'s store; NotFound for a kind without one."""
    if connection.kind is ChannelKind.SHOPIFY:
        return ShopifyChannel(connection)
    raise NotFound(f"{connection.kind.value} channels have no adapter yet")
