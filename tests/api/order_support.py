"""Helpers shared by the API tests of verification and promising; no tests here.

``tests.api.support`` builds the shared world; this adds what those tests need: a stocked
shop, clean and paid orders, and reading the timeline before and after a call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.tenants import authenticate
from tests.api.support import (
    ApiTenant,
    TestClient,
    create_location,
    create_product,
    place_order,
    set_on_hand,
    walk_pages,
)

__all__ = [
    "PAID",
    "STATUS_AXES",
    "SYSTEM_ACTOR",
    "VALID_ADDRESS",
    "Timeline",
    "actor_of",
    "assert_timeline_well_formed",
    "clean_order",
    "events_of",
    "open_hold_reasons",
    "paid_order",
    "stock_shop",
]

VALID_ADDRESS: dict[str, Any] = {
    "name": "Erika Mustermann",
    "line1": "Heidestrasse 17",
    "city": "Koeln",
    "postal_code": "51147",
    "country": "DE",
}
PAID: dict[str, Any] = {"gateway": "manual", "captured": True}
SYSTEM_ACTOR = "system:oms"
STATUS_AXES = {"status", "fulfillment_status", "payment_status"}


def stock_shop(client: TestClient, tenant: ApiTenant, *, units: int = 10) -> ApiTenant:
    """Location WH with ``units`` of TEE (50.00 EUR) and of MUG (5.00 EUR)."""
    create_location(client, tenant, "WH")
    for sku, price in (("TEE", "50.00"), ("MUG", "5.00")):
        create_product(client, tenant, sku, price=price)
        set_on_hand(client, tenant, sku, "WH", units)
    return tenant


def clean_order(
    client: TestClient, tenant: ApiTenant, *lines: tuple[str, int], **fields: Any
) -> dict[str, Any]:
    """An order with a valid shipping address (and no payment unless ``fields`` give one)."""
    return place_order(
        client, tenant, *(lines or (("TEE", 1),)), **{"shipping_address": VALID_ADDRESS, **fields}
    )


def paid_order(
    client: TestClient, tenant: ApiTenant, *lines: tuple[str, int], **fields: Any
) -> dict[str, Any]:
    """A clean order the channel reports as paid: nothing stops it, so it is released."""
    return clean_order(client, tenant, *lines, **{"payment": PAID, **fields})


def actor_of(uow_factory: SqlUnitOfWorkFactory, tenant: ApiTenant) -> str:
    """How the timeline names calls made with the tenant's key: ``api_key:<key id>``."""
    principal = authenticate(uow_factory=uow_factory, secret=tenant.secret)
    assert principal is not None
    return f"api_key:{principal.key_id}"


def events_of(client: TestClient, tenant: ApiTenant, order_id: str) -> list[dict[str, Any]]:
    pages = walk_pages(client, f"/v1/orders/{order_id}/events", tenant.headers, limit=50)
    return [event for page in pages for event in page]


def open_hold_reasons(order: dict[str, Any]) -> list[str]:
    return sorted(hold["reason"] for hold in order["holds"] if hold["released_at"] is None)


class Timeline:
    """An order's timeline read before a call, to tell exactly which events the call added."""

    def __init__(self, client: TestClient, tenant: ApiTenant, order_id: str) -> None:
        self.client, self.tenant, self.order_id = client, tenant, order_id
        self.before = events_of(client, tenant, order_id)

    def new_events(self) -> list[dict[str, Any]]:
        after = events_of(self.client, self.tenant, self.order_id)
        assert after[: len(self.before)] == self.before, "earlier events must never change"
        return after[len(self.before) :]

    def new_types(self) -> list[str]:
        return [event["type"] for event in self.new_events()]


def assert_timeline_well_formed(events: list[dict[str, Any]], *, key_actor: str) -> None:
    """Numbered from 1 in time order; each by the key or the system; each change with
    statuses before and after that chain from one event to the next."""
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    times = [datetime.fromisoformat(event["created_at"]) for event in events]
    assert all(moment.tzinfo is not None for moment in times)
    assert times == sorted(times)
    assert events[0]["type"] == "order.placed"
    assert events[0]["actor"] == key_actor
    previous_after: dict[str, str] | None = None
    for event in events:
        assert event["actor"] in {key_actor, SYSTEM_ACTOR}, event
        if event["type"] == "order.placed":
            continue
        before, after = event["data"]["before"], event["data"]["after"]
        assert set(before) == STATUS_AXES, event
        assert set(after) == STATUS_AXES, event
        if previous_after is not None:
            assert before == previous_after, event
        previous_after = after
