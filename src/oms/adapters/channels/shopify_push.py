"""Fulfilments back to Shopify: an outbox subscriber (``EventSink``) that, when a shipment
of a Shopify order is created, calls the Admin GraphQL API's ``fulfillmentCreate`` on the
order's fulfillment orders with the carrier, tracking number and tracking URL.

1. ``subscribers``: a ``shipment.created`` event of an order whose channel is a Shopify
   connection that pushes fulfilments: that connection.
2. ``send``: query the order's fulfillment orders (``order.fulfillmentOrders``), match the
   shipment's contents to their line items by SKU (through the connection's SKU mapping,
   read backwards), then ``fulfillmentCreate`` with ``trackingInfo``. Items already
   fulfilled are not sent again, so a retry after a lost answer sends nothing twice.

A 429 is retried inside the attempt after its ``Retry-After``, a THROTTLED answer after
the bucket refills (``shopify_graphql``: at most ``max_wait`` seconds, ``sleep``
injected); any other failure is the attempt's outcome, and the outbox
retries it on its schedule, so a shop down for a while gets every fulfilment once back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from oms.adapters.channels.shipment_push import ShipmentOfStore, ShipmentSink, log_push
from oms.adapters.channels.shopify_graphql import GraphQLFailed, ShopifyGraphQL
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.services.channels import ChannelRepository
from oms.services.events import Event, Outcome

__all__ = ["FULFILLMENT_CREATE", "FULFILLMENT_ORDERS", "FulfilmentPush", "ShopifyFulfilmentSink"]

FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 20) {
      nodes {
        id
        status
        lineItems(first: 100) { nodes { id sku remainingQuantity } }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

_OPEN = {"OPEN", "IN_PROGRESS"}


@dataclass(frozen=True)
class FulfilmentPush:
    """What one fulfilment needs: where, with what token, which order, what shipped."""

    channel_id: UUID
    graphql_url: str
    access_token: str
    order_gid: str
    carrier: str
    tracking_number: str
    tracking_url: str
    items: tuple[tuple[str, int], ...]  # the store's SKU, quantity


class ShopifyFulfilmentSink(ShipmentSink):
    """``EventSink`` of kind ``shopify``: shipments of Shopify orders become fulfilments."""

    kind = "shopify"
    channel_kind = ChannelKind.SHOPIFY

    def __init__(
        self,
        *,
        channels: ChannelRepository,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 30.0,
    ) -> None:
        super().__init__(channels=channels)
        self._api = ShopifyGraphQL(client=client, sleep=sleep, max_wait=max_wait)

    def push_of(self, shipment: ShipmentOfStore) -> object:
        connection = shipment.connection
        return FulfilmentPush(
            channel_id=connection.id,
            graphql_url=str(connection.settings["api_base_url"]).rstrip("/") + "/graphql.json",
            access_token=connection.credentials.get("access_token", ""),
            order_gid=f"gid://shopify/Order/{shipment.external_id}",
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
            items=shipment.items,
        )

    def _graphql(self, push: FulfilmentPush, query: str, variables: dict[str, Any]) -> Any:
        return self._api.call(push.graphql_url, push.access_token, query, variables)

    def _line_items(self, push: FulfilmentPush) -> list[dict[str, Any]]:
        """Per open fulfillment order, its line items for the shipment's contents."""
        data = self._graphql(push, FULFILLMENT_ORDERS, {"id": push.order_gid})
        order = data.get("order")
        if order is None:
            raise GraphQLFailed(f"Shopify has no order {push.order_gid}", final=True)
        wanted = dict(push.items)
        chosen: list[dict[str, Any]] = []
        for node in order["fulfillmentOrders"]["nodes"]:
            if node.get("status") not in _OPEN:
                continue
            items = []
            for line in node["lineItems"]["nodes"]:
                take = min(wanted.get(line.get("sku") or "", 0), int(line["remainingQuantity"]))
                if take > 0:
                    items.append({"id": line["id"], "quantity": take})
                    wanted[line["sku"]] -= take
            if items:
                chosen.append(
                    {"fulfillmentOrderId": node["id"], "fulfillmentOrderLineItems": items}
                )
        return chosen

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, FulfilmentPush)
        started = time.perf_counter()
        try:
            by_order = self._line_items(prepared)
            if by_order:
                data = self._graphql(
                    prepared,
                    FULFILLMENT_CREATE,
                    {
                        "fulfillment": {
                            "lineItemsByFulfillmentOrder": by_order,
                            "trackingInfo": {
                                "company": prepared.carrier,
                                "number": prepared.tracking_number,
                                "url": prepared.tracking_url,
                            },
                            "notifyCustomer": True,
                        }
                    },
                )
                errors = data.get("fulfillmentCreate", {}).get("userErrors") or []
                if errors:
                    raise GraphQLFailed(json.dumps(errors)[:500], 200, final=True)
        except GraphQLFailed as failed:
            self._log(event, prepared, SyncOutcome.FAILED, str(failed))
            return Outcome(
                delivered=False,
                status_code=failed.status,
                error=str(failed),
                latency_ms=(time.perf_counter() - started) * 1000,
                final=failed.final,
            )
        detail = (
            f"fulfilment with {prepared.carrier} {prepared.tracking_number}"
            if by_order
            else "nothing left to fulfil: already fulfilled in Shopify"
        )
        self._log(event, prepared, SyncOutcome.OK, detail)
        return Outcome(
            delivered=True, status_code=200, latency_ms=(time.perf_counter() - started) * 1000
        )

    def _log(self, event: Event, push: FulfilmentPush, outcome: SyncOutcome, detail: str) -> None:
        log_push(
            self._channels,
            tenant_id=event.tenant_id,
            channel_id=push.channel_id,
            operation="fulfillmentCreate",
            outcome=outcome,
            detail=detail,
            external_id=push.order_gid.rsplit("/", 1)[-1],
            order_id=event.aggregate_id,
        )

    def close(self) -> None:
        self._api.close()
