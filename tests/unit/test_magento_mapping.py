"""Magento 2's order (``GET /rest/V1/orders``) mapped to the intake's command; the
searchCriteria of the pull; which items ship."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from oms.adapters.channels.magento import (
    MagentoChannel,
    MagentoPayloadError,
    order_of_payload,
    parse_order_json,
)
from oms.adapters.channels.magento_push import carrier_code_of, items_to_ship
from oms.adapters.channels.magento_rest import updated_since_criteria
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.channels import RemotePayment

FIXTURE = Path(__file__).parent.parent / "fixtures" / "magento" / "order.json"
AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def connection(**changes: Any) -> ChannelConnection:
    base = ChannelConnection(
        tenant_id=uuid4(),
        id=uuid4(),
        kind=ChannelKind.MAGENTO2,
        name="m2",
        created_at=AT,
        updated_at=AT,
        settings={"base_url": "https://m2.example.com"},
        credentials={"access_token": "tok"},
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def payload(**changes: Any) -> dict[str, Any]:
    found = parse_order_json(FIXTURE.read_bytes())
    found.update(changes)
    return found


def test_the_fixture_maps_to_what_the_store_charged() -> None:
    store = connection()
    mapped = order_of_payload(payload(), store)
    command = mapped.command
    assert mapped.external_id == "1874"  # entity_id, not the increment_id
    assert mapped.updated_at == datetime(2026, 12, 7, 9, 20, 11, tzinfo=UTC)
    assert mapped.payment is RemotePayment.PAID
    assert command.payment is not None
    assert command.payment.captured
    assert command.channel == f"magento2:{store.id}"
    # The configurable's child (parent_item_id) is not a second line.
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.tax) for ln in command.lines] == [
        ("BEANIE-GRAPHITE", 2, Decimal("22.69"), Decimal("8.62")),
        ("SOCKS-3P-4245", 1, Decimal("15.13"), Decimal("2.87")),
    ]
    assert (command.shipping_price, command.shipping_tax) == (Decimal("4.20"), Decimal("0.80"))
    lines = sum(ln.unit_price * ln.quantity + ln.tax for ln in command.lines if ln.unit_price)
    assert lines + command.shipping_price + command.shipping_tax == Decimal("77.00")
    assert (command.customer.email, command.customer.name) == (
        "lena.hoffmann@example.com",
        "Lena Hoffmann",
    )
    shipping, billing = command.shipping_address, command.billing_address
    assert shipping is not None
    assert billing is not None
    assert (shipping.line1, shipping.line2, shipping.company) == (
        "Kastanienallee 12",
        None,
        "Hoffmann Design",
    )
    assert (billing.line1, billing.line2) == ("Kastanienallee 12", "Seitenflügel")
    assert (shipping.region, shipping.postal_code, shipping.country) == ("BER", "10435", "DE")
    assert command.note == "Magento #000001874; total 77.00 EUR; coupon WINTER10"
    assert command.hold_unknown_skus


def test_an_id_beyond_a_floats_precision_stays_exact() -> None:
    big = 2**63 - 1
    raw = FIXTURE.read_bytes().replace(b'"entity_id": 1874,', f'"entity_id": {big},'.encode())
    assert order_of_payload(parse_order_json(raw), connection()).external_id == str(big)


@pytest.mark.parametrize("bad_id", [1.5, None, "000001874x"])
def test_an_order_without_an_integer_id_is_refused(bad_id: object) -> None:
    with pytest.raises(MagentoPayloadError):
        order_of_payload(payload(entity_id=bad_id), connection())


def _unpaid(**payment: Any) -> dict[str, Any]:
    base = payload(total_paid=0)
    base["payment"] = {**base["payment"], "amount_paid": 0, "amount_authorized": 0, **payment}
    return base


@pytest.mark.parametrize(
    ("body", "remote", "cancelled"),
    [
        (payload(), RemotePayment.PAID, False),  # processing, invoiced
        (payload(state="complete", status="complete"), RemotePayment.PAID, False),
        (_unpaid(amount_authorized=77), RemotePayment.AUTHORIZED, False),
        (_unpaid(), RemotePayment.PENDING, False),
        ({**_unpaid(), "state": "pending_payment"}, RemotePayment.PENDING, False),
        ({**_unpaid(), "state": "holded", "status": "holded"}, RemotePayment.PENDING, False),
        ({**_unpaid(), "state": "canceled", "status": "canceled"}, RemotePayment.PENDING, True),
        (payload(state="closed", status="closed"), RemotePayment.OTHER, False),
    ],
)
def test_state_and_payment_map(
    body: dict[str, Any], remote: RemotePayment, cancelled: bool
) -> None:
    mapped = order_of_payload(body, connection())
    assert mapped.payment is remote
    assert mapped.cancelled is cancelled


def test_a_fractional_quantity_is_refused() -> None:
    body = payload()
    body["items"][2]["qty_ordered"] = Decimal("1.5")
    with pytest.raises(MagentoPayloadError):
        order_of_payload(body, connection())


def test_skus_go_through_the_connections_mapping() -> None:
    mapped = order_of_payload(payload(), connection(sku_mapping={"SOCKS-3P-4245": "SOCK-3"}))
    assert [ln.sku for ln in mapped.command.lines] == ["BEANIE-GRAPHITE", "SOCK-3"]


def test_magento_takes_no_webhooks() -> None:
    channel = MagentoChannel(connection())
    assert not channel.verify_webhook(raw_body=FIXTURE.read_bytes(), headers={})
    assert channel.order_of_webhook(topic="sales_order_save_after", raw_body=b"{}") is None


def test_the_search_criteria_filter_updated_at_from_the_start() -> None:
    since = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    query = updated_since_criteria(since, 3)
    group = "searchCriteria[filter_groups][0][filters][0]"
    assert (query[f"{group}[field]"], query[f"{group}[condition_type]"]) == ("updated_at", "gteq")
    assert query[f"{group}[value]"] == "2026-12-07 01:30:00"
    assert query["searchCriteria[currentPage]"] == 3


def test_the_parcel_ships_the_lines_not_the_configurables_children() -> None:
    order = payload()
    assert items_to_ship(order, [("BEANIE-GRAPHITE", 2), ("SOCKS-3P-4245", 1)]) == [
        {"order_item_id": 5531, "qty": 2},
        {"order_item_id": 5533, "qty": 1},
    ]
    order["items"][0]["qty_shipped"] = 1
    assert items_to_ship(order, [("BEANIE-GRAPHITE", 2)]) == [{"order_item_id": 5531, "qty": 1}]
    assert items_to_ship(order, [("NOT-ORDERED", 1)]) == []


@pytest.mark.parametrize(
    ("carrier", "code"), [("DHL", "dhl"), ("UPS", "ups"), ("FedEx", "fedex"), ("GLS", "custom")]
)
def test_carriers_map_to_magentos_codes(carrier: str, code: str) -> None:
    assert carrier_code_of(carrier) == code


def test_the_fixture_carries_every_documented_top_level_field() -> None:
    fields = set(json.loads(FIXTURE.read_text()))
    expected = {
        "entity_id", "increment_id", "state", "status", "created_at", "updated_at",
        "customer_email", "customer_firstname", "customer_lastname", "customer_id",
        "customer_is_guest", "order_currency_code", "base_currency_code", "grand_total",
        "base_grand_total", "subtotal", "tax_amount", "shipping_amount", "shipping_tax_amount",
        "shipping_discount_amount", "discount_amount", "coupon_code", "total_paid",
        "total_due", "items", "billing_address", "payment", "status_histories",
        "extension_attributes", "shipping_description", "store_id", "protect_code",
    }  # fmt: skip
    assert expected <= fields


@pytest.mark.parametrize(("state", "held"), [("holded", True), ("processing", False)])
def test_a_hold_in_magento_is_carried(state: str, held: bool) -> None:
    mapped = order_of_payload(payload(state=state, status=state), connection())
    assert mapped.held is held
    assert mapped.hold_note == "on hold in Magento (#000001874)"
