"""Shopify: webhooks verified and mapped to ``ChannelOrder`` values.

Verification: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body with the
app's webhook secret; it is compared in constant time before the body is parsed.

Parsing (``order_of_body``): orjson first, which parses a full-size order in about a third
of the standard library's time but reads a number with a fraction as a float, and an
integer beyond 64 bits as a float too. Shopify sends amounts as strings, so the mapping
meets a float only where a store sent something unusual: wherever it reads one (map
coordinates excepted, which are floats either way), the body is parsed again exactly
(``parse_order_json``: integers of any size, fractions as ``Decimal``) and mapped from
that. A body orjson refuses is parsed exactly too, and refused as before if it must be.

Mapping (REST Admin ``Order`` resource, as the ``orders/*`` webhooks send it):

    id                         -> external_id, exactly (a 64-bit integer: parsed as an int,
                                  never a float; ``admin_graphql_api_id`` is not used)
    updated_at                 -> which copy is newest
    name, order_number         -> the order's note ("Shopify #1001")
    email / contact_email, customer first/last name, phone -> customer
    shipping_address, billing_address (address1/2, city, province_code, zip, country_code,
        phone, company, name, latitude/longitude) -> addresses
    line_items sku (through the connection's SKU mapping), quantity, price less its
        discount_allocations, tax_lines -> lines; a SKU the catalogue lacks: held, not dropped
    shipping_lines (discounted_price, tax_lines) -> shipping price and tax
    currency                   -> currency (the shop's)
    financial_status paid -> captured payment; authorized -> authorized; pending -> none
        (the order waits: payment_pending)
    cancelled_at, cancel_reason -> cancelled
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import orjson

from oms.domain.addresses import Address
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.domain.money import round_money
from oms.domain.orders import Customer
from oms.services.channels import ChannelOrder, PayloadRefused, RemotePayment
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder

__all__ = [
    "ORDER_TOPICS",
    "ShopifyChannel",
    "ShopifyPayloadError",
    "order_of_body",
    "order_of_payload",
    "parse_order_json",
    "signature_of",
]

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
_NOTE_LIMIT = 2000
_ZERO = Decimal(0)
_UNIT_PRICE_STEP = Decimal("0.0001")


class ShopifyPayloadError(PayloadRefused):
    """A verified body that is not a Shopify order as documented."""


def signature_of(raw_body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends for ``raw_body``."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class _Inexact(Exception):
    """The mapping met a float orjson made: the body is parsed again exactly."""


def _inexact(raw: Any) -> bool:
    """Whether ``raw`` is a number orjson read as a float. The exact parser makes a float
    only of NaN and the infinities (which orjson refuses), and they stay as they were."""
    return type(raw) is float and math.isfinite(raw)


def _reject_float(text: str) -> Any:
    # Shopify sends prices as strings; a bare number with a point is kept exact.
    return Decimal(text)


def parse_order_json(raw_body: bytes) -> dict[str, Any]:
    """The body as a dict: integers stay ``int`` (any size), decimals ``Decimal``."""
    try:
        found = json.loads(raw_body, parse_float=_reject_float)
    except (ValueError, UnicodeDecodeError) as error:
        raise ShopifyPayloadError(f"the body is not JSON: {error}") from None
    if not isinstance(found, dict):
        raise ShopifyPayloadError("the body is not a JSON object")
    return found


def order_of_body(raw_body: bytes, connection: ChannelConnection) -> ChannelOrder:
    """The ``ChannelOrder`` of a webhook's body: parsed by orjson, or again exactly when the
    mapping meets a float or orjson refuses the body (see the module's docstring)."""
    try:
        payload = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        payload = None
    if type(payload) is dict:
        try:
            return _order_of(payload, connection)
        except _Inexact:
            pass
    return order_of_payload(parse_order_json(raw_body), connection)


def _order_id(payload: Mapping[str, Any]) -> str:
    raw = payload.get("id")
    if _inexact(raw):
        raise _Inexact
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ShopifyPayloadError("the order has no integer id")
    text = str(raw)
    if not text.isdigit():
        raise ShopifyPayloadError(f"the order id {text!r} is not an integer")
    return text


def _time(payload: Mapping[str, Any], key: str) -> datetime:
    raw = payload.get(key)
    if not isinstance(raw, str):
        raise ShopifyPayloadError(f"the order has no {key}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ShopifyPayloadError(f"{key} {raw!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ShopifyPayloadError(f"{key} {raw!r} has no UTC offset")
    return moment.astimezone(UTC)


def _money(raw: Any) -> Decimal:
    if type(raw) is str and raw:
        try:
            return Decimal(raw)
        except ArithmeticError:
            raise ShopifyPayloadError(f"{raw!r} is not an amount") from None
    if raw is None or raw == "":
        return Decimal(0)
    if _inexact(raw):
        raise _Inexact
    try:
        return Decimal(str(raw))
    except ArithmeticError:
        raise ShopifyPayloadError(f"{raw!r} is not an amount") from None


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if type(raw) is str:
        return raw.strip() or None
    return _number_text(raw).strip() or None


def _number_text(raw: Any) -> str:
    """``raw`` as text; a float's text from orjson is not the body's: parsed again."""
    if _inexact(raw):
        raise _Inexact
    return str(raw)


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, Mapping) or not _text(raw.get("country_code")):
        return None
    first, last = _text(raw.get("first_name")), _text(raw.get("last_name"))
    name = _text(raw.get("name")) or " ".join(p for p in (first, last) if p) or None
    latitude, longitude = raw.get("latitude"), raw.get("longitude")
    return Address(
        country=str(raw["country_code"]).upper(),
        name=name,
        company=_text(raw.get("company")),
        line1=_text(raw.get("address1")),
        line2=_text(raw.get("address2")),
        city=_text(raw.get("city")),
        region=_text(raw.get("province_code")),
        postal_code=_text(raw.get("zip")),
        phone=_text(raw.get("phone")),
        latitude=None if latitude is None else float(latitude),
        longitude=None if longitude is None else float(longitude),
    )


def _customer(payload: Mapping[str, Any]) -> Customer:
    raw = payload.get("customer")
    customer: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    first, last = _text(customer.get("first_name")), _text(customer.get("last_name"))
    shipping = payload.get("shipping_address")
    fallback = _text(shipping.get("name")) if isinstance(shipping, Mapping) else None
    return Customer(
        email=_text(payload.get("email")) or _text(payload.get("contact_email")),
        name=" ".join(p for p in (first, last) if p) or fallback,
        phone=_text(payload.get("phone")) or _text(customer.get("phone")),
    )


def _tax(raw: Any) -> Decimal:
    return _total(raw if isinstance(raw, list) else (), "price")


def _total(entries: Any, key: str) -> Decimal:
    """The sum of ``key``'s amounts over the objects among ``entries``."""
    total = _ZERO
    for entry in entries:
        if isinstance(entry, Mapping):
            total += _money(entry.get(key))
    return total


def _lines(
    payload: Mapping[str, Any], connection: ChannelConnection, currency: str, taxes_included: bool
) -> tuple[LineRequest, ...]:
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise ShopifyPayloadError("the order has no line_items")
    lines: list[LineRequest] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ShopifyPayloadError("a line item is not an object")
        quantity = item.get("quantity")
        if _inexact(quantity):
            raise _Inexact
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ShopifyPayloadError("a line item has no positive quantity")
        discount = _total(item.get("discount_allocations") or (), "amount")
        tax = _tax(item.get("tax_lines"))
        line_total = _money(item.get("price")) * quantity - discount
        if taxes_included:
            line_total -= tax
        unit = (line_total / quantity).quantize(_UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
        sku = _text(item.get("sku")) or f"shopify-variant-{_number_text(item.get('variant_id'))}"
        lines.append(
            LineRequest(
                sku=connection.our_sku(sku),
                quantity=quantity,
                unit_price=round_money(max(unit, _ZERO), currency),
                tax=round_money(tax, currency),
            )
        )
    return tuple(lines)


def _shipping(payload: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    price, tax = Decimal(0), Decimal(0)
    for line in payload.get("shipping_lines") or []:
        if not isinstance(line, Mapping):
            continue
        discounted = line.get("discounted_price")
        price += _money(discounted if discounted is not None else line.get("price"))
        tax += _tax(line.get("tax_lines"))
    return price, tax


def _payment(status: Any) -> tuple[RemotePayment, ChannelPayment | None]:
    if status == "paid":
        return RemotePayment.PAID, ChannelPayment(gateway="manual", captured=True)
    if status == "authorized":
        return RemotePayment.AUTHORIZED, ChannelPayment(gateway="manual")
    if status in {"pending", "partially_paid", None}:
        return RemotePayment.PENDING, None
    return RemotePayment.OTHER, None


def order_of_payload(payload: Mapping[str, Any], connection: ChannelConnection) -> ChannelOrder:
    """The ``ChannelOrder`` of one Shopify order (a webhook body, or an Admin API order), as
    ``parse_order_json`` reads it. A finite float in it (``json.loads`` reads a fraction so)
    is refused where its exact text matters: that text is lost."""
    try:
        return _order_of(payload, connection)
    except _Inexact:
        raise ShopifyPayloadError(
            "the order has a number read as a float: parse it exactly"
        ) from None


def _order_of(payload: Mapping[str, Any], connection: ChannelConnection) -> ChannelOrder:
    external_id = _order_id(payload)
    currency = _text(payload.get("currency"))
    if currency is None:
        raise ShopifyPayloadError("the order has no currency")
    taxes_included = payload.get("taxes_included") is True
    remote, channel_payment = _payment(payload.get("financial_status"))
    shipping_price, shipping_tax = _shipping(payload)
    if taxes_included:
        shipping_price -= shipping_tax
    name = _text(payload.get("name")) or f"#{_number_text(payload.get('order_number'))}"
    note = f"Shopify {name}; total {_money(payload.get('total_price'))} {currency}"
    if remark := _text(payload.get("note")):
        note = f"{note}. {remark}"[:_NOTE_LIMIT]
    command = PlaceOrder(
        currency=currency,
        lines=_lines(payload, connection, currency, taxes_included),
        channel=connection.order_channel,
        external_id=external_id,
        customer=_customer(payload),
        shipping_address=_address(payload.get("shipping_address")),
        billing_address=_address(payload.get("billing_address")),
        note=note,
        shipping_price=round_money(max(shipping_price, Decimal(0)), currency),
        shipping_tax=round_money(shipping_tax, currency),
        payment=channel_payment,
        hold_unknown_skus=True,
    )
    return ChannelOrder(
        external_id=external_id,
        updated_at=_time(payload, "updated_at"),
        command=command,
        payment=remote,
        cancelled=payload.get("cancelled_at") is not None,
        cancel_reason=_text(payload.get("cancel_reason")),
    )


class ShopifyChannel:
    """One Shopify shop, as a connection describes it."""

    kind = ChannelKind.SHOPIFY

    def __init__(
        self,
        connection: ChannelConnection,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self._client = client
        self._sleep = sleep

    def is_handshake(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """Shopify sends no such delivery."""
        return False

    def verify_webhook(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        secret = self.connection.credentials.get("webhook_secret")
        given = headers.get("x-shopify-hmac-sha256")
        if not secret or not given:
            return False
        return hmac.compare_digest(signature_of(raw_body, secret).encode(), given.encode())

    def order_of_webhook(self, *, topic: str, raw_body: bytes) -> ChannelOrder | None:
        if topic not in ORDER_TOPICS:
            return None
        return order_of_body(raw_body, self.connection)

    def orders_since(self, since: datetime) -> Iterator[ChannelOrder]:
        from oms.adapters.channels.shopify_admin import ShopifyAdmin

        admin = ShopifyAdmin(
            api_base_url=str(self.connection.settings["api_base_url"]),
            access_token=self.connection.credentials.get("access_token", ""),
            client=self._client,
            sleep=self._sleep,
        )
        for payload in admin.orders_since(since):
            yield order_of_payload(payload, self.connection)
