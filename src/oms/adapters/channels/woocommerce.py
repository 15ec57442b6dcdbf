"""WooCommerce: webhooks verified and mapped to ``ChannelOrder`` values.

Verification: ``X-WC-Webhook-Signature`` is the base64 HMAC-SHA256 of the raw body with the
webhook's secret; it is compared in constant time before the body is parsed. The ping
WooCommerce sends when a webhook is saved (``webhook_id=N``, form-encoded, unsigned, no
topic) is recognised by ``is_ping`` and answered without storing anything.

Mapping (REST API v3 ``Order``, as the ``order.created`` / ``order.updated`` webhooks and
``GET /wp-json/wc/v3/orders`` send it):

    id                          -> external_id, exactly (an integer, never through a float)
    date_modified_gmt           -> which copy is newest
    number, total, customer_note, coupon_lines codes, fee_lines -> the order's note
    billing email / first_name + last_name / phone -> customer
    billing, shipping (first/last name, company, address_1/2, city, state, postcode,
        country, phone)         -> addresses
    line_items sku (through the connection's SKU mapping), quantity, total / quantity
        (after coupons, tax excluded: WooCommerce keeps line totals net), total_tax -> lines;
        a SKU the catalogue lacks: held, not dropped
    shipping_lines total, total_tax -> shipping price and tax
    currency                    -> currency
    date_paid set               -> a captured payment; else pending (pending, on-hold,
                                   failed: the order waits: payment_pending)
    status cancelled            -> cancelled; refunded -> nothing recorded at intake
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from oms.adapters.channels.payload import integer_id, money, parse_json, text, utc_time
from oms.domain.addresses import Address
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.domain.money import round_money
from oms.domain.orders import Customer
from oms.services.channels import ChannelOrder, PayloadRefused, RemotePayment
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder

__all__ = [
    "ORDER_TOPICS",
    "WooCommerceChannel",
    "WooCommercePayloadError",
    "is_ping",
    "order_of_payload",
    "parse_order_json",
    "signature_of",
]

ORDER_TOPICS = frozenset({"order.created", "order.updated"})
_NOTE_LIMIT = 2000
_PING = re.compile(rb"webhook_id=\d+")


class WooCommercePayloadError(PayloadRefused):
    """A verified body that is not a WooCommerce order as documented."""


def signature_of(raw_body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` value WooCommerce sends for ``raw_body``."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_ping(*, raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """The delivery WooCommerce sends once when a webhook is saved: ``webhook_id=N``,
    form-encoded, with no topic and no signature. It carries nothing to store."""
    return "x-wc-webhook-topic" not in headers and _PING.fullmatch(raw_body.strip()) is not None


def parse_order_json(raw_body: bytes) -> dict[str, Any]:
    """The body as a dict: integers stay ``int`` (any size), decimals ``Decimal``."""
    found = parse_json(raw_body, WooCommercePayloadError)
    if not isinstance(found, dict):
        raise WooCommercePayloadError("the body is not a JSON object")
    if set(found) == {"order"}:
        raise WooCommercePayloadError(
            "a legacy API body: set the webhook's API version to WP REST API Integration v3"
        )
    return found


def _money(raw: Any) -> Decimal:
    return money(raw, WooCommercePayloadError)


def _address(raw: Any, *, phone: Any = None) -> Address | None:
    if not isinstance(raw, Mapping) or not text(raw.get("country")):
        return None
    first, last = text(raw.get("first_name")), text(raw.get("last_name"))
    return Address(
        country=str(raw["country"]).strip().upper(),
        name=" ".join(p for p in (first, last) if p) or None,
        company=text(raw.get("company")),
        line1=text(raw.get("address_1")),
        line2=text(raw.get("address_2")),
        city=text(raw.get("city")),
        region=text(raw.get("state")),
        postal_code=text(raw.get("postcode")),
        phone=text(raw.get("phone")) or text(phone),
    )


def _customer(payload: Mapping[str, Any]) -> Customer:
    billing = payload.get("billing")
    bill: Mapping[str, Any] = billing if isinstance(billing, Mapping) else {}
    shipping = payload.get("shipping")
    ship: Mapping[str, Any] = shipping if isinstance(shipping, Mapping) else {}
    names = (
        " ".join(p for p in (text(a.get("first_name")), text(a.get("last_name"))) if p)
        for a in (bill, ship)
    )
    return Customer(
        email=text(bill.get("email")),
        name=next((n for n in names if n), None),
        phone=text(bill.get("phone")),
    )


def _lines(
    payload: Mapping[str, Any], connection: ChannelConnection, currency: str
) -> tuple[LineRequest, ...]:
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise WooCommercePayloadError("the order has no line_items")
    lines: list[LineRequest] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise WooCommercePayloadError("a line item is not an object")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise WooCommercePayloadError("a line item has no positive quantity")
        # ``total`` is the line after coupons, without tax (``price`` is the same per unit,
        # as a float); ``total_tax`` its tax.
        net = _money(item.get("total"))
        unit = (net / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        product = item.get("variation_id") or item.get("product_id")
        sku = text(item.get("sku")) or f"woocommerce-product-{product}"
        lines.append(
            LineRequest(
                sku=connection.our_sku(sku),
                quantity=quantity,
                unit_price=round_money(max(unit, Decimal(0)), currency),
                tax=round_money(_money(item.get("total_tax")), currency),
            )
        )
    return tuple(lines)


def _shipping(payload: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    price, tax = Decimal(0), Decimal(0)
    for line in payload.get("shipping_lines") or []:
        if isinstance(line, Mapping):
            price += _money(line.get("total"))
            tax += _money(line.get("total_tax"))
    return price, tax


def _payment(payload: Mapping[str, Any]) -> tuple[RemotePayment, ChannelPayment | None]:
    status = payload.get("status")
    if status == "refunded":
        return RemotePayment.OTHER, None
    if payload.get("date_paid_gmt") or payload.get("date_paid"):
        return RemotePayment.PAID, ChannelPayment(gateway="manual", captured=True)
    return RemotePayment.PENDING, None


def _note(payload: Mapping[str, Any], currency: str) -> str:
    number = text(payload.get("number")) or text(payload.get("id"))
    note = f"WooCommerce #{number}; total {_money(payload.get('total'))} {currency}"
    coupons = [
        text(c.get("code")) for c in payload.get("coupon_lines") or [] if isinstance(c, Mapping)
    ]
    if codes := [c for c in coupons if c]:
        note = f"{note}; coupons {', '.join(codes)}"
    fees = [f for f in payload.get("fee_lines") or [] if isinstance(f, Mapping)]
    for fee in fees:
        amount = _money(fee.get("total")) + _money(fee.get("total_tax"))
        note = f"{note}; fee {text(fee.get('name')) or 'fee'} {amount} {currency}"
    if remark := text(payload.get("customer_note")):
        note = f"{note}. {remark}"
    return note[:_NOTE_LIMIT]


def order_of_payload(payload: Mapping[str, Any], connection: ChannelConnection) -> ChannelOrder:
    """The ``ChannelOrder`` of one WooCommerce order (a webhook body, or a REST API order)."""
    external_id = integer_id(payload.get("id"), "order", WooCommercePayloadError)
    currency = text(payload.get("currency"))
    if currency is None:
        raise WooCommercePayloadError("the order has no currency")
    currency = currency.upper()
    remote, channel_payment = _payment(payload)
    shipping_price, shipping_tax = _shipping(payload)
    billing = payload.get("billing")
    billing_phone = billing.get("phone") if isinstance(billing, Mapping) else None
    command = PlaceOrder(
        currency=currency,
        lines=_lines(payload, connection, currency),
        channel=connection.order_channel,
        external_id=external_id,
        customer=_customer(payload),
        shipping_address=_address(payload.get("shipping"), phone=billing_phone),
        billing_address=_address(payload.get("billing")),
        note=_note(payload, currency),
        shipping_price=round_money(max(shipping_price, Decimal(0)), currency),
        shipping_tax=round_money(shipping_tax, currency),
        payment=channel_payment,
        hold_unknown_skus=True,
    )
    modified = payload.get("date_modified_gmt") or payload.get("date_created_gmt")
    return ChannelOrder(
        external_id=external_id,
        updated_at=utc_time(modified, "date_modified_gmt", WooCommercePayloadError),
        command=command,
        payment=remote,
        cancelled=payload.get("status") == "cancelled",
        cancel_reason="cancelled in WooCommerce",
    )


class WooCommerceChannel:
    """One WooCommerce store, as a connection describes it."""

    kind = ChannelKind.WOOCOMMERCE

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
        """The ping sent when a webhook is saved."""
        return is_ping(raw_body=raw_body, headers=headers)

    def verify_webhook(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        secret = self.connection.credentials.get("webhook_secret")
        given = headers.get("x-wc-webhook-signature")
        if not secret or not given:
            return False
        return hmac.compare_digest(signature_of(raw_body, secret).encode(), given.encode())

    def order_of_webhook(self, *, topic: str, raw_body: bytes) -> ChannelOrder | None:
        if topic not in ORDER_TOPICS:
            return None
        return order_of_payload(parse_order_json(raw_body), self.connection)

    def orders_since(self, since: datetime) -> Iterator[ChannelOrder]:
        from oms.adapters.channels.woocommerce_rest import WooCommerceRest

        rest = WooCommerceRest.of(self.connection, client=self._client, sleep=self._sleep)
        for payload in rest.orders_since(since):
            yield order_of_payload(payload, self.connection)
