"""Magento 2 / Adobe Commerce: a pull channel. Magento sends no signed order webhooks out
of the box, so orders come in by polling (``oms channels sync``); ``verify_webhook`` refuses
every delivery and no webhook route exists for it.

Mapping (``Magento\\Sales\\Api\\Data\\OrderInterface``, as ``GET /rest/V1/orders`` sends it):

    entity_id                   -> external_id, exactly (an integer, never through a float)
    increment_id, grand_total   -> the order's note ("Magento #000000042; total ...")
    updated_at (UTC)            -> which copy is newest
    customer_email, customer_firstname + customer_lastname, billing telephone -> customer
    billing_address, extension_attributes.shipping_assignments[0].shipping.address
        (firstname, lastname, company, street[], city, region_code, postcode, country_id,
        telephone)              -> addresses
    items without parent_item_id (a configurable's child is its parent's line): sku
        (through the connection's SKU mapping), qty_ordered, row_total less discount_amount
        plus discount_tax_compensation_amount per unit, tax_amount -> lines
    shipping_amount less shipping_discount_amount (plus its compensation),
        shipping_tax_amount     -> shipping price and tax
    order_currency_code         -> currency (amounts are the order currency's)
    payment.amount_paid >= grand_total -> captured; amount_authorized -> authorized;
        else pending (state new, pending_payment, payment_review, holded)
    state canceled              -> cancelled; closed (refunded) -> nothing recorded at intake
    state holded                -> a manual hold placed by the channel, released when the
                                   store's copy is no longer holded
"""

from __future__ import annotations

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
    "MagentoChannel",
    "MagentoPayloadError",
    "order_of_payload",
    "parse_order_json",
    "shippable_items",
]

_NOTE_LIMIT = 2000


class MagentoPayloadError(PayloadRefused):
    """An answer that is not a Magento order as documented."""


def parse_order_json(raw_body: bytes) -> dict[str, Any]:
    """The body as a dict: integers stay ``int`` (any size), decimals ``Decimal``."""
    found = parse_json(raw_body, MagentoPayloadError)
    if not isinstance(found, dict):
        raise MagentoPayloadError("the body is not a JSON object")
    return found


def _money(raw: Any) -> Decimal:
    return money(raw, MagentoPayloadError)


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, Mapping) or not text(raw.get("country_id")):
        return None
    first, last = text(raw.get("firstname")), text(raw.get("lastname"))
    street = [s for s in (text(s) for s in raw.get("street") or []) if s]
    return Address(
        country=str(raw["country_id"]).strip().upper(),
        name=" ".join(p for p in (first, last) if p) or None,
        company=text(raw.get("company")),
        line1=street[0] if street else None,
        line2=" ".join(street[1:]) or None,
        city=text(raw.get("city")),
        region=text(raw.get("region_code")) or text(raw.get("region")),
        postal_code=text(raw.get("postcode")),
        phone=text(raw.get("telephone")),
    )


def _shipping_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    extension = payload.get("extension_attributes")
    assignments = extension.get("shipping_assignments") if isinstance(extension, Mapping) else None
    if isinstance(assignments, list) and assignments and isinstance(assignments[0], Mapping):
        shipping = assignments[0].get("shipping")
        if isinstance(shipping, Mapping):
            return shipping
    return {}


def _quantity(raw: Any) -> int:
    try:
        quantity = Decimal(str(raw))
    except ArithmeticError:
        raise MagentoPayloadError(f"the quantity {raw!r} is not a number") from None
    if quantity != quantity.to_integral_value() or quantity <= 0:
        raise MagentoPayloadError(f"an item has no positive whole quantity ({raw!r})")
    return int(quantity)


def shippable_items(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The order's items that are lines: those without a ``parent_item_id`` (a configurable
    product's chosen child rides on its parent, which carries the price and ships)."""
    items = payload.get("items")
    if not isinstance(items, list):
        raise MagentoPayloadError("the order has no items")
    return [i for i in items if isinstance(i, Mapping) and not i.get("parent_item_id")]


def _lines(
    payload: Mapping[str, Any], connection: ChannelConnection, currency: str
) -> tuple[LineRequest, ...]:
    lines: list[LineRequest] = []
    for item in shippable_items(payload):
        quantity = _quantity(item.get("qty_ordered"))
        net = (
            _money(item.get("row_total"))
            - _money(item.get("discount_amount"))
            + _money(item.get("discount_tax_compensation_amount"))
        )
        unit = (net / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        sku = text(item.get("sku")) or f"magento-product-{item.get('product_id')}"
        lines.append(
            LineRequest(
                sku=connection.our_sku(sku),
                quantity=quantity,
                unit_price=round_money(max(unit, Decimal(0)), currency),
                tax=round_money(_money(item.get("tax_amount")), currency),
            )
        )
    if not lines:
        raise MagentoPayloadError("the order has no items")
    return tuple(lines)


def _payment(payload: Mapping[str, Any]) -> tuple[RemotePayment, ChannelPayment | None]:
    if payload.get("state") == "closed":
        return RemotePayment.OTHER, None
    raw = payload.get("payment")
    payment: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    total = _money(payload.get("grand_total"))
    paid = max(_money(payment.get("amount_paid")), _money(payload.get("total_paid")))
    if paid > 0 and paid >= total:
        return RemotePayment.PAID, ChannelPayment(gateway="manual", captured=True)
    if _money(payment.get("amount_authorized")) > 0:
        return RemotePayment.AUTHORIZED, ChannelPayment(gateway="manual")
    return RemotePayment.PENDING, None


def order_of_payload(payload: Mapping[str, Any], connection: ChannelConnection) -> ChannelOrder:
    """The ``ChannelOrder`` of one Magento order."""
    external_id = integer_id(payload.get("entity_id"), "order", MagentoPayloadError)
    currency = text(payload.get("order_currency_code"))
    if currency is None:
        raise MagentoPayloadError("the order has no order_currency_code")
    currency = currency.upper()
    remote, channel_payment = _payment(payload)
    shipping_price = (
        _money(payload.get("shipping_amount"))
        - _money(payload.get("shipping_discount_amount"))
        + _money(payload.get("shipping_discount_tax_compensation_amount"))
    )
    shipping_tax = _money(payload.get("shipping_tax_amount"))
    billing = payload.get("billing_address")
    bill: Mapping[str, Any] = billing if isinstance(billing, Mapping) else {}
    first = text(payload.get("customer_firstname")) or text(bill.get("firstname"))
    last = text(payload.get("customer_lastname")) or text(bill.get("lastname"))
    note = (
        f"Magento #{text(payload.get('increment_id')) or external_id}; "
        f"total {round_money(_money(payload.get('grand_total')), currency)} {currency}"
    )
    if coupon := text(payload.get("coupon_code")):
        note = f"{note}; coupon {coupon}"
    command = PlaceOrder(
        currency=currency,
        lines=_lines(payload, connection, currency),
        channel=connection.order_channel,
        external_id=external_id,
        customer=Customer(
            email=text(payload.get("customer_email")) or text(bill.get("email")),
            name=" ".join(p for p in (first, last) if p) or None,
            phone=text(bill.get("telephone")),
        ),
        shipping_address=_address(_shipping_of(payload).get("address")),
        billing_address=_address(billing),
        note=note[:_NOTE_LIMIT],
        shipping_price=round_money(max(shipping_price, Decimal(0)), currency),
        shipping_tax=round_money(shipping_tax, currency),
        payment=channel_payment,
        hold_unknown_skus=True,
    )
    return ChannelOrder(
        external_id=external_id,
        updated_at=utc_time(
            payload.get("updated_at") or payload.get("created_at"),
            "updated_at",
            MagentoPayloadError,
        ),
        command=command,
        payment=remote,
        cancelled=payload.get("state") == "canceled",
        cancel_reason="canceled in Magento",
        held=payload.get("state") == "holded",
        hold_note=f"on hold in Magento (#{text(payload.get('increment_id')) or external_id})",
    )


class MagentoChannel:
    """One Magento 2 store, as a connection describes it: pulled, never pushing webhooks."""

    kind = ChannelKind.MAGENTO2

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
        """Magento sends no webhooks."""
        return False

    def verify_webhook(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        return False  # Magento signs no order webhooks: its orders are pulled

    def order_of_webhook(self, *, topic: str, raw_body: bytes) -> ChannelOrder | None:
        return None

    def orders_since(self, since: datetime) -> Iterator[ChannelOrder]:
        from oms.adapters.channels.magento_rest import MagentoRest

        rest = MagentoRest.of(self.connection, client=self._client, sleep=self._sleep)
        for payload in rest.orders_since(since):
            yield order_of_payload(payload, self.connection)
