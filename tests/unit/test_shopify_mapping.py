"""Shopify's order payload mapped to the intake's command; its signature; credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography.fernet import InvalidToken
from hypothesis import given
from hypothesis import strategies as st

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.shopify import (
    ShopifyChannel,
    ShopifyPayloadError,
    order_of_payload,
    parse_order_json,
    signature_of,
)
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.channels import RemotePayment

FIXTURE = Path(__file__).parent.parent / "fixtures" / "shopify" / "orders_create.json"
AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def connection(**changes: Any) -> ChannelConnection:
    base = ChannelConnection(
        tenant_id=uuid4(),
        id=uuid4(),
        kind=ChannelKind.SHOPIFY,
        name="shop",
        created_at=AT,
        updated_at=AT,
        credentials={"webhook_secret": "s3cret", "access_token": "t"},
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def payload(**changes: Any) -> dict[str, Any]:
    found = parse_order_json(FIXTURE.read_bytes())
    found.update(changes)
    return found


def test_the_fixture_maps_to_what_the_shop_charged() -> None:
    mapped = order_of_payload(payload(), connection())
    command = mapped.command
    assert mapped.external_id == "5872311409921734519"
    assert mapped.updated_at == datetime(2026, 12, 7, 9, 14, 24, tzinfo=UTC)
    assert mapped.payment is RemotePayment.PAID
    assert command.payment is not None
    assert command.payment.captured
    # Taxes included: the net unit price after the discount, the tax beside it.
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.tax) for ln in command.lines] == [
        ("BEANIE-GRAPHITE", 2, Decimal("22.65"), Decimal("8.61")),
        ("SOCKS-3P-4245", 1, Decimal("45.37"), Decimal("8.62")),
    ]
    assert (command.shipping_price, command.shipping_tax) == (Decimal("4.16"), Decimal("0.79"))
    lines = sum(ln.unit_price * ln.quantity + ln.tax for ln in command.lines if ln.unit_price)
    assert lines + command.shipping_price + command.shipping_tax == Decimal("112.85")
    assert command.shipping_address is not None
    assert (command.shipping_address.region, command.shipping_address.latitude) == ("BE", 52.5386)
    assert command.customer.name == "Lena Hoffmann"
    assert command.hold_unknown_skus


def test_an_id_beyond_a_floats_precision_stays_exact() -> None:
    big = 2**63 - 1  # a float would round it to ...808
    raw = FIXTURE.read_bytes().replace(b"5872311409921734519,", f"{big},".encode(), 1)
    assert order_of_payload(parse_order_json(raw), connection()).external_id == str(big)


@pytest.mark.parametrize("bad_id", [1.5, None, True, "gid://shopify/Order/1"])
def test_an_order_without_an_integer_id_is_refused(bad_id: object) -> None:
    with pytest.raises(ShopifyPayloadError):
        order_of_payload(payload(id=bad_id), connection())


@pytest.mark.parametrize(
    ("status", "remote", "captured"),
    [
        ("paid", RemotePayment.PAID, True),
        ("authorized", RemotePayment.AUTHORIZED, False),
        ("pending", RemotePayment.PENDING, None),
        ("partially_paid", RemotePayment.PENDING, None),
        ("refunded", RemotePayment.OTHER, None),
        ("voided", RemotePayment.OTHER, None),
    ],
)
def test_financial_status_maps_to_the_payment(
    status: str, remote: RemotePayment, captured: bool | None
) -> None:
    mapped = order_of_payload(payload(financial_status=status), connection())
    assert mapped.payment is remote
    taken = mapped.command.payment
    assert (None if taken is None else taken.captured) == captured


def test_skus_go_through_the_connections_mapping() -> None:
    mapped = order_of_payload(payload(), connection(sku_mapping={"SOCKS-3P-4245": "SOCK-TRIPLE-L"}))
    assert [ln.sku for ln in mapped.command.lines] == ["BEANIE-GRAPHITE", "SOCK-TRIPLE-L"]


def test_a_cancelled_order_says_so() -> None:
    mapped = order_of_payload(
        payload(cancelled_at="2026-12-07T11:00:00+01:00", cancel_reason="fraud"), connection()
    )
    assert (mapped.cancelled, mapped.cancel_reason) == (True, "fraud")


def test_the_signature_is_checked_on_the_raw_bytes() -> None:
    channel = ShopifyChannel(connection())
    raw = FIXTURE.read_bytes()
    good = {"x-shopify-hmac-sha256": signature_of(raw, "s3cret")}
    assert channel.verify_webhook(raw_body=raw, headers=good)
    assert not channel.verify_webhook(raw_body=raw + b" ", headers=good)
    assert not channel.verify_webhook(raw_body=raw, headers={})
    assert not channel.verify_webhook(
        raw_body=raw, headers={"x-shopify-hmac-sha256": signature_of(raw, "other")}
    )


def test_a_webhook_body_maps_as_the_exact_parser_reads_it() -> None:
    """orjson reads the body first: what it maps is what the exact parser's copy maps."""
    raw = FIXTURE.read_bytes()
    shop = connection()
    webhook = ShopifyChannel(shop).order_of_webhook(topic="orders/create", raw_body=raw)
    assert webhook == order_of_payload(parse_order_json(raw), shop)


def _body(**changes: str) -> bytes:
    """The fixture with top-level values replaced by raw JSON text."""
    body = json.loads(FIXTURE.read_text())
    marks = {key: f"@{key}@" for key in changes}
    body.update(marks)
    raw = json.dumps(body)
    for key, text in changes.items():
        raw = raw.replace(f'"{marks[key]}"', text)
    return raw.encode()


@pytest.mark.parametrize(
    ("changes", "read"),
    [
        pytest.param({"id": str(2**64 + 1)}, ("external_id", str(2**64 + 1)), id="id over 64 bits"),
        pytest.param(
            {"total_price": "112.850000000000000001"},
            ("note", "Shopify #1042; total 112.850000000000000001 EUR"),
            id="amount beyond a float",
        ),
        pytest.param({"name": "1001.50"}, ("note", "Shopify 1001.50; total 112.85 EUR"), id="name"),
    ],
)
def test_numbers_a_float_cannot_hold_are_read_exactly_from_a_webhook(
    changes: dict[str, str], read: tuple[str, str]
) -> None:
    """A bare number orjson would read as a float (an integer over 64 bits, a fraction)
    comes out as the body wrote it."""
    raw = _body(**changes)
    mapped = ShopifyChannel(connection()).order_of_webhook(topic="orders/create", raw_body=raw)
    assert mapped is not None
    field, expected = read
    value = mapped.external_id if field == "external_id" else mapped.command.note
    assert value.startswith(expected)


def test_a_float_given_to_the_mapping_is_refused() -> None:
    with pytest.raises(ShopifyPayloadError, match="float"):
        order_of_payload(payload(total_price=112.85), connection())


def test_a_body_orjson_refuses_is_read_by_the_exact_parser() -> None:
    """NaN is not JSON, but Python's parser reads it; a body of it is mapped as before."""
    raw = _body(total_price="NaN")
    mapped = ShopifyChannel(connection()).order_of_webhook(topic="orders/create", raw_body=raw)
    assert mapped is not None
    assert mapped.command.note is not None
    assert mapped.command.note.startswith("Shopify #1042; total NaN EUR")


def test_topics_without_an_order_are_not_mapped() -> None:
    channel = ShopifyChannel(connection())
    assert channel.order_of_webhook(topic="products/update", raw_body=b"{}") is None


def test_credentials_decrypt_after_a_key_rotation() -> None:
    old = FernetCipher("old-secret-key-0123456789")
    token = old.encrypt({"access_token": "shpat_1"})
    assert "shpat_1" not in token
    rotated = FernetCipher("new-secret-key-0123456789, old-secret-key-0123456789")
    assert rotated.decrypt(token) == {"access_token": "shpat_1"}
    renewed = rotated.rotate(token)
    assert FernetCipher("new-secret-key-0123456789").decrypt(renewed) == {"access_token": "shpat_1"}
    with pytest.raises(InvalidToken):
        FernetCipher("new-secret-key-0123456789").decrypt(token)


def test_the_fixture_carries_every_documented_top_level_field() -> None:
    fields = set(json.loads(FIXTURE.read_text()))
    expected = {
        "id", "admin_graphql_api_id", "billing_address", "shipping_address", "customer",
        "line_items", "shipping_lines", "tax_lines", "discount_codes",
        "discount_applications", "financial_status", "fulfillment_status", "cancelled_at",
        "cancel_reason", "updated_at", "created_at", "currency", "total_price", "name",
        "order_number", "taxes_included", "refunds", "fulfillments", "note_attributes",
    }  # fmt: skip
    assert expected <= fields


@given(
    order_id=st.integers(min_value=1, max_value=2**64 - 1),
    lines=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=50),  # quantity
            st.decimals(min_value=0, max_value=5000, places=2),  # unit price
            st.decimals(min_value=0, max_value=1, places=2),  # discount share
            st.decimals(min_value=0, max_value=Decimal("0.25"), places=2),  # tax rate
        ),
        min_size=1,
        max_size=5,
    ),
    taxes_included=st.booleans(),
)
def test_mapped_lines_keep_the_shops_money_to_the_cent(
    order_id: int,
    lines: list[tuple[int, Decimal, Decimal, Decimal]],
    taxes_included: bool,
) -> None:
    body = json.loads(FIXTURE.read_text())  # floats as floats: it is dumped again below
    body["taxes_included"] = taxes_included
    template = body["line_items"][0]
    items, expected = [], []
    for n, (quantity, price, share, rate) in enumerate(lines):
        discount = (price * quantity * share).quantize(Decimal("0.01"))
        tax = ((price * quantity - discount) * rate).quantize(Decimal("0.01"))
        items.append(
            {
                **template,
                "sku": f"SKU-{n}",
                "quantity": quantity,
                "price": str(price),
                "discount_allocations": [{"amount": str(discount)}],
                "tax_lines": [{"price": str(tax)}],
            }
        )
        net = price * quantity - discount - (tax if taxes_included else 0)
        expected.append((quantity, max(net, Decimal(0)), tax))
    body["line_items"] = items
    raw = json.dumps(body).replace('"id": 5872311409921734519', f'"id": {order_id}', 1)
    mapped = order_of_payload(parse_order_json(raw.encode()), connection())
    assert mapped.external_id == str(order_id)
    for line, (quantity, net, tax) in zip(mapped.command.lines, expected, strict=True):
        assert line.unit_price is not None
        assert line.unit_price >= 0
        assert line.tax == tax
        # The unit price is the line's net at the cent: half a cent per unit at most apart.
        assert abs(line.unit_price * quantity - net) <= Decimal("0.005") * quantity
