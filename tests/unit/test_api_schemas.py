"""Request schemas: every text refuses NUL, and fits the column it is stored in."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, NaiveDatetime, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import String

import oms.api.routers
import oms.api.schemas
import oms.web
from oms.adapters.db import tables
from oms.api.schemas.common import NUL_FREE, Strict, UtcTime, in_utc
from oms.domain.money import without_negative_zero


def _strict_models() -> list[type[Strict]]:
    for package in (oms.api.schemas, oms.api.routers, oms.web):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    def below(cls: type[Strict]) -> Iterator[type[Strict]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted(set(below(Strict)), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _text_schemas(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        if node.get("type") == "str":
            yield path, node
        for key, value in node.items():
            yield from _text_schemas(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _text_schemas(value, (*path, n))


MODELS = _strict_models()


def test_the_request_models_are_found() -> None:
    names = {model.__name__ for model in MODELS}
    assert {"OrderCreate", "AddressIn", "LineIn", "ProductCreate"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_text_schema_of_a_request_model_refuses_nul(model: type[BaseModel]) -> None:
    texts = list(_text_schemas(model.__pydantic_core_schema__))
    for path, schema in texts:
        pattern = schema.get("pattern")
        assert pattern is not None, f"{model.__name__}: text at {path} has no pattern"
        assert re.search(pattern, "A\x00") is None, f"{model.__name__}: {path} admits NUL"


def test_a_nul_anywhere_in_an_order_is_refused_at_its_field() -> None:
    from oms.api.schemas.orders import OrderCreate

    body = {
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "shipping_address": {"country": "NL", "city": "Rotter\x00dam"},
        "tags": ["ok", "\x00"],
    }
    with pytest.raises(ValidationError) as raised:
        OrderCreate.model_validate(body)

    assert sorted(e["loc"] for e in raised.value.errors()) == [
        ("shipping_address", "city"),
        ("tags", 1),
    ]


def test_an_orders_payments_are_checked_in_its_currency_and_not_beside_payment() -> None:
    from oms.api.schemas.orders import OrderCreate

    body: dict[str, Any] = {
        "currency": "JPY",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "payments": [{"gateway": "store_credit", "amount": "5"}, {"gateway": "test"}],
    }
    command = OrderCreate.model_validate(body).to_command()
    assert [(p.gateway, p.amount) for p in command.payments] == [
        ("store_credit", Decimal(5)),
        ("test", None),
    ]
    with pytest.raises(ValidationError) as finer:
        OrderCreate.model_validate({**body, "payments": [{"gateway": "manual", "amount": "1.5"}]})
    assert [e["loc"] for e in finer.value.errors()] == [("payments", 0, "amount")]
    with pytest.raises(ValidationError) as both:
        OrderCreate.model_validate({**body, "payment": {"gateway": "manual"}})
    assert [e["loc"] for e in both.value.errors()] == [("payments",)]


def test_the_nul_pattern_stays_out_of_the_published_schema() -> None:
    from oms.api.schemas.orders import OrderCreate

    assert NUL_FREE not in str(OrderCreate.model_json_schema())


# --- Every request text fits the column it is stored in (or looked up in) ------------------

# Kept in a text column or a JSON document, which has no length limit: its max_length
# bounds the request. Or never stored at all: parsed, or compared with something stored.
UNBOUNDED = "unbounded"
NOT_STORED = "not stored"
COLUMN_OF = {
    "ExchangeLineIn.sku": "products.sku",
    "ReturnCreate.note": UNBOUNDED,
    "ReturnDecision.note": UNBOUNDED,
    "ReturnLineIn.reason": "return_lines.reason",
    "ReturnReceipt.location": "locations.code",
    "TillReturnCreate.note": UNBOUNDED,
    # kept in idempotency_keys.key after a prefix: test_a_till_receipt_fits_its_key
    "TillReturnCreate.receipt_id": NOT_STORED,
    "TillReturnCreate.store_location": "locations.code",
    "TillReturnLineIn.reason": "return_lines.reason",
    "ReturnLabelIn.location": "locations.code",
    "CustomerReturnCreate.number": NOT_STORED,  # parsed as the order's number
    "CustomerReturnCreate.email": "orders.customer_email",
    "CustomerReturnCreate.note": UNBOUNDED,
    "CustomerExchangeLineIn.sku": "products.sku",  # looked up among the offered products
    "AsnCartonCreate.code": "inbound_cartons.code",
    "InboundReceiptCreate.carton": "inbound_cartons.code",  # looked up
    "ShopifyChannelCreate.shopify_locations{}": UNBOUNDED,  # in the channel's JSON settings
    "ChannelUpdate.shopify_locations{}": UNBOUNDED,
    "Magento2ChannelCreate.magento_sources{}": UNBOUNDED,  # in the channel's JSON settings
    "ChannelUpdate.magento_sources{}": UNBOUNDED,
    "ReturnLabelIn.carrier": "carrier_services.carrier",
    "ReturnLabelIn.service": "carrier_services.code",
    "SupplierCreate.name": "suppliers.name",
    "SupplierCreate.currency": "suppliers.currency",
    "PurchaseOrderCreate.location": "locations.code",
    "PoLineCreate.sku": "purchase_order_lines.sku",
    "ReceiptLineCreate.sku": "purchase_order_lines.sku",
    "InboundShipmentCreate.location": "locations.code",
    "InboundShipmentCreate.reference": "inbound_shipments.reference",
    "InboundShipmentCreate.tracking": "inbound_shipments.tracking",
    "AsnLineCreate.sku": "inbound_lines.sku",
    "InboundReceiptCreate.scan_id": "inbound_scans.scan_id",
    "ScanLineCreate.sku": "inbound_scans.sku",
    "ScanLineCreate.reason": UNBOUNDED,
    "PutawayLineCreate.sku": "inbound_putaways.sku",
    "PutawayLineCreate.bin": "inbound_putaways.bin",
    "CountSheetCreate.location": "locations.code",
    "CountSheetCreate.skus[]": "count_lines.sku",
    "CountSheetCreate.bins[]": "count_lines.bin",
    "CountEntry.sku": "count_lines.sku",
    "TransferCreate.from_": "locations.code",
    "TransferCreate.to": "locations.code",
    "TransferLineIn.sku": "transfer_lines.sku",
    "ApprovalCreate.reason": UNBOUNDED,  # count_sheets.reason and movement reasons: text
    "PriceListBody.currency": "billing_price_lists.currency",
    "PriceListBody.special_handling{}": UNBOUNDED,  # a category, in the price list's JSON
    "StorageRateBody.location": "locations.code",
    "ProductCreate.customs_description": "products.customs_description",
    "ProductCreate.hs_code": "products.hs_code",
    "ProductCreate.origin_country": "products.origin_country",
    "ProductUpdate.customs_description": "products.customs_description",
    "ProductUpdate.hs_code": "products.hs_code",
    "ProductUpdate.origin_country": "products.origin_country",
    "WebhookEndpointCreate.url": "webhook_endpoints.url",
    "WebhookEndpointCreate.description": "webhook_endpoints.description",
    "WebhookEndpointCreate.event_types[]": NOT_STORED,  # only known type names are kept
    "RateCardImport.document": NOT_STORED,  # parsed: see the rate card tests
    "RateRequest.origin": "locations.code",
    "RerouteIn.exclude_locations[]": "locations.code",
    "RerouteIn.reason": UNBOUNDED,
    "ReservationLineIn.sku": "cart_reservation_lines.sku",
    "BoxIn.code": "packages.box",
    "ComponentIn.sku": "products.sku",
    "LocationCreate.code": "locations.code",
    "LocationCreate.name": "locations.name",
    "LocationCreate.pickup_cutoff": "locations.pickup_cutoff",
    "ProductBinIn.sku": "product_bins.sku",
    "ProductBinIn.bin": "product_bins.bin",
    "ProductCreate.sku": "products.sku",
    "ProductCreate.name": "products.name",
    "ProductCreate.currency": "products.currency",
    "ProductCreate.category": "products.category",
    "ProductCreate.barcode": "products.barcode",
    "ProductCreate.download_url": UNBOUNDED,
    "ProductUpdate.name": "products.name",
    "ProductUpdate.currency": "products.currency",
    "ProductUpdate.category": "products.category",
    "ProductUpdate.barcode": "products.barcode",
    "ProductUpdate.download_url": UNBOUNDED,
    "LocationUpdate.name": "locations.name",
    "LocationUpdate.pickup_cutoff": "locations.pickup_cutoff",
    **{
        f"AddressIn.{name}": UNBOUNDED
        for name in ("name", "company", "line1", "line2", "city", "region", "country")
    },
    "AddressIn.postal_code": UNBOUNDED,  # and in the address key, checked once folded
    "AddressIn.phone": UNBOUNDED,
    "DiscountCodeCreate.code": "discount_codes.code",
    "DiscountCodeCreate.currency": "discount_codes.currency",
    "CarrierEventIn.id": "tracking_events.event_id",
    "CarrierEventIn.tracking_number": "shipments.tracking_number",
    "CarrierEventIn.location": "tracking_events.location",
    "CarrierEventIn.description": UNBOUNDED,
    "MoveIn.location": "locations.code",
    "PackageIn.scans[]": "products.sku",
    "PackageIn.box": "packages.box",
    "PickIn.sku": "fulfillment_order_lines.sku",
    "PickupIn.code": NOT_STORED,  # compared with its hash
    "RejectIn.reason": UNBOUNDED,
    "ShipmentIn.carrier": "shipments.carrier",
    "ShipmentIn.service": "shipments.service",
    "HoldCreate.note": UNBOUNDED,
    "HoldRelease.note": UNBOUNDED,
    "PoliciesUpdate.hold_sla_hours{}": NOT_STORED,  # hold reasons
    "AdjustmentCreate.sku": "inventory_movements.sku",
    "AdjustmentCreate.location": "locations.code",
    "AdjustmentCreate.reason": UNBOUNDED,
    "AdjustmentCreate.reference": "inventory_movements.reference",
    "CancelRequest.reason": UNBOUNDED,
    "CustomerIn.email": "orders.customer_email",
    "CustomerIn.name": "orders.customer_name",
    "CustomerIn.phone": "orders.customer_phone",
    "LineChangeIn.sku": "order_lines.sku",
    "LineIn.sku": "order_lines.sku",
    "OrderCreate.channel": "orders.channel",
    "OrderCreate.external_id": "orders.external_id",
    "OrderCreate.currency": "orders.currency",
    "OrderCreate.tags[]": UNBOUNDED,
    "OrderCreate.note": UNBOUNDED,
    "OrderCreate.discount_codes[]": "discount_codes.code",
    "OrderCreate.service_level": "orders.service_level",
    "OrderCreate.pickup_location": "locations.code",
    "OrderCreate.store_location": "locations.code",
    "PaymentIn.gateway": "payments.gateway",
    "PaymentIn.token": NOT_STORED,  # given to the gateway
    "PaymentActionIn.gateway": "payments.gateway",
    "PaymentActionIn.token": NOT_STORED,
    "RiskRuleCreate.params{}": NOT_STORED,  # parameter names
    "NotificationSettingsUpdate.sender_name": "notification_settings.sender_name",
    "NotificationSettingsUpdate.sender_email": "notification_settings.sender_email",
    "NotificationSettingsUpdate.reply_to": "notification_settings.reply_to",
    "NotificationSettingsUpdate.notify_email": "notification_settings.notify_email",
    "NotificationSettingsUpdate.logo_url": UNBOUNDED,
    "NotificationSettingsUpdate.colour": "notification_settings.colour",
    "NotificationSettingsUpdate.accent_colour": "notification_settings.accent_colour",
    "NotificationSettingsUpdate.templates{}": NOT_STORED,  # template names, checked
    "TemplatePreviewRequest.hold_reason": NOT_STORED,
    # Channels: settings, SKU mapping and locations in JSON; credentials as ciphertext.
    "ApiChannelCreate.location_codes[]": UNBOUNDED,
    "ApiChannelCreate.name": "channels.name",
    "ApiChannelCreate.sku_mapping{}": UNBOUNDED,
    "ChannelUpdate.access_token": UNBOUNDED,
    "ChannelUpdate.api_base_url": UNBOUNDED,
    "ChannelUpdate.base_url": UNBOUNDED,
    "ChannelUpdate.consumer_key": UNBOUNDED,
    "ChannelUpdate.consumer_secret": UNBOUNDED,
    "ChannelUpdate.location_codes[]": UNBOUNDED,
    "ChannelUpdate.name": "channels.name",
    "ChannelUpdate.shop_domain": UNBOUNDED,
    "ChannelUpdate.sku_mapping{}": UNBOUNDED,
    "ChannelUpdate.store_url": UNBOUNDED,
    "ChannelUpdate.webhook_secret": UNBOUNDED,
    "CsvChannelCreate.location_codes[]": UNBOUNDED,
    "CsvChannelCreate.name": "channels.name",
    "CsvChannelCreate.sku_mapping{}": UNBOUNDED,
    "Magento2ChannelCreate.access_token": UNBOUNDED,
    "Magento2ChannelCreate.base_url": UNBOUNDED,
    "Magento2ChannelCreate.location_codes[]": UNBOUNDED,
    "Magento2ChannelCreate.name": "channels.name",
    "Magento2ChannelCreate.sku_mapping{}": UNBOUNDED,
    "ShopifyChannelCreate.access_token": UNBOUNDED,
    "ShopifyChannelCreate.api_base_url": UNBOUNDED,
    "ShopifyChannelCreate.location_codes[]": UNBOUNDED,
    "ShopifyChannelCreate.name": "channels.name",
    "ShopifyChannelCreate.shop_domain": UNBOUNDED,
    "ShopifyChannelCreate.sku_mapping{}": UNBOUNDED,
    "ShopifyChannelCreate.webhook_secret": UNBOUNDED,
    "WooCommerceChannelCreate.consumer_key": UNBOUNDED,
    "WooCommerceChannelCreate.consumer_secret": UNBOUNDED,
    "WooCommerceChannelCreate.location_codes[]": UNBOUNDED,
    "WooCommerceChannelCreate.name": "channels.name",
    "WooCommerceChannelCreate.sku_mapping{}": UNBOUNDED,
    "WooCommerceChannelCreate.store_url": UNBOUNDED,
    "WooCommerceChannelCreate.webhook_secret": UNBOUNDED,
    "_Common.location_codes[]": UNBOUNDED,
    "_Common.name": "channels.name",
    "_Common.sku_mapping{}": UNBOUNDED,
    "header:Idempotency-Key": "idempotency_keys.key",
    "header:If-Match": NOT_STORED,
    "header:X-OMS-Signature": NOT_STORED,
}


def _max_length(metadata: list[Any]) -> int | None:
    found = [getattr(m, "max_length", None) for m in metadata]
    return min((n for n in found if n is not None), default=None)


def _texts_in(where: str, annotation: Any, metadata: list[Any]) -> Iterator[tuple[str, Any]]:
    """``(where, max_length)`` of each text inside ``annotation`` (nested models apart)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        yield from _texts_in(where, args[0], [*args[1:], *metadata])
    elif origin in (Union, UnionType):
        for arg in args:
            yield from _texts_in(where, arg, metadata)
    elif origin in (list, tuple, set, frozenset):  # the list's own limits are not its items'
        yield from _texts_in(f"{where}[]", args[0], [])
    elif origin is dict:
        yield from _texts_in(f"{where}{{}}", args[0], [])
        yield from _texts_in(f"{where}{{}}", args[1], [])
    elif annotation is str:
        yield where, _max_length(metadata)


def _request_texts() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in MODELS:
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            found.update(_texts_in(where, field.annotation, list(field.metadata)))
    for module in pkgutil.iter_modules(oms.api.routers.__path__):
        router = importlib.import_module(f"oms.api.routers.{module.name}").router
        for route in router.routes:
            for param in getattr(route, "dependant", None).header_params:
                found[f"header:{param.alias}"] = _max_length(param.field_info.metadata)
    return found


def test_every_request_text_says_where_it_is_stored() -> None:
    texts = _request_texts()
    assert sorted(set(texts) - set(COLUMN_OF)) == [], "add them to COLUMN_OF"
    assert sorted(set(COLUMN_OF) - set(texts)) == [], "no such request text: remove them"


@pytest.mark.parametrize(
    ("text", "column"),
    sorted(
        (text, column)
        for text, column in COLUMN_OF.items()
        if column not in (UNBOUNDED, NOT_STORED)
    ),
)
def test_a_request_text_is_as_long_as_its_column_allows(text: str, column: str) -> None:
    table, name = column.split(".")
    column_type = tables.metadata.tables[table].columns[name].type
    assert isinstance(column_type, String)
    assert column_type.length is not None

    assert _request_texts()[text] == column_type.length


def test_a_till_receipt_fits_its_key() -> None:
    from oms.services.till_returns import RECEIPT_KEY_PREFIX

    key = tables.idempotency_keys.c.key.type
    assert isinstance(key, String)

    assert _request_texts()["TillReturnCreate.receipt_id"] + len(RECEIPT_KEY_PREFIX) == key.length


@pytest.mark.parametrize(
    "text", sorted(text for text, column in COLUMN_OF.items() if column == UNBOUNDED)
)
def test_a_request_text_kept_without_a_column_limit_still_has_a_limit(text: str) -> None:
    assert isinstance(_request_texts()[text], int)


# --- Every time the API takes converts to UTC, or is refused at its field ------------------


def _times_in(where: str, annotation: Any, metadata: list[Any]) -> Iterator[tuple[str, Any]]:
    """``(where, metadata)`` of each datetime inside ``annotation`` (nested models apart)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        yield from _times_in(where, args[0], [*args[1:], *metadata])
    elif origin in (Union, UnionType, list, tuple, set, frozenset, dict):
        for arg in args:
            yield from _times_in(where, arg, metadata)
    elif annotation in (AwareDatetime, NaiveDatetime) or (
        isinstance(annotation, type) and issubclass(annotation, datetime)
    ):
        yield where, metadata


def _accepted_times() -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for model in MODELS:
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            found.update(_times_in(where, field.annotation, list(field.metadata)))
    for module in pkgutil.iter_modules(oms.api.routers.__path__):
        router = importlib.import_module(f"oms.api.routers.{module.name}").router
        for route in router.routes:
            dependant = route.dependant
            for param in (*dependant.query_params, *dependant.header_params):
                info = param.field_info
                found.update(_times_in(f"query:{param.alias}", info.annotation, info.metadata))
    return found


def test_the_times_the_api_takes_are_found() -> None:
    assert {
        "query:created_from",
        "query:created_to",
        "DiscountCodeCreate.ends_at",
        "CarrierEventIn.occurred_at",
    } <= set(_accepted_times())


@pytest.mark.parametrize("where", sorted(_accepted_times()))
def test_every_time_the_api_takes_is_a_utc_time(where: str) -> None:
    validators = [getattr(m, "func", None) for m in _accepted_times()[where]]
    assert in_utc in validators, f"{where}: use UtcTime"


class _Timed(BaseModel):
    at: UtcTime


OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@given(moment=st.datetimes(timezones=OFFSETS))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-1))))
@example(moment=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))))
@example(moment=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=14))))
def test_a_utc_time_is_the_same_instant_in_utc_or_refused_at_its_field(moment: datetime) -> None:
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        with pytest.raises(ValidationError) as refused:
            _Timed(at=moment)
        assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [
            (("at",), "datetime_out_of_range")
        ]
    else:
        taken = _Timed(at=moment).at
        assert (taken, taken.utcoffset()) == (in_utc, timedelta(0))


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        _Timed.model_validate({"at": "2026-01-01T00:00:00"})

    assert [e["loc"] for e in refused.value.errors()] == [("at",)]


# --- Every amount the API takes is checked against its currency's minor unit --------------

# Where each amount is checked with oms.domain.money.minor_unit_problem: by the model that
# holds its currency (refuse_amounts_finer_than), or where the currency is known.
# Billing rates are finer than money (0.0125 per unit-day): at most 4 decimals, checked by
# the price list; each priced line is rounded to the currency once.
_RATE = "oms.domain.billing.PriceList (rates: at most 4 decimals)"
AMOUNT_CHECKED_IN = {
    "PriceListBody.receiving_per_receipt": _RATE,
    "PriceListBody.receiving_per_line": _RATE,
    "PriceListBody.receiving_per_unit": _RATE,
    "PriceListBody.pick_per_order": _RATE,
    "PriceListBody.pick_per_line": _RATE,
    "PriceListBody.pick_per_unit": _RATE,
    "PriceListBody.per_package": _RATE,
    "PriceListBody.label_markup_percent": _RATE,
    "PriceListBody.special_handling": _RATE,
    "StorageRateBody.rate": _RATE,
    "ProductCreate.price": "ProductCreate",
    "LineIn.unit_price": "OrderCreate",
    "LineIn.tax": "OrderCreate",
    "OrderCreate.shipping_price": "OrderCreate",
    "OrderCreate.shipping_tax": "OrderCreate",
    "PaymentIn.amount": "OrderCreate",  # in payment and in each of payments
    "DiscountCodeCreate.value": "oms.domain.pricing.DiscountCode.validate",
    "DiscountCodeCreate.min_subtotal": "oms.domain.pricing.DiscountCode.validate",
    "LineChangeIn.unit_price": "oms.services.editing (the order's currency)",
    "PaymentActionIn.amount": "oms.domain.payments.payment_amount (the order's currency)",
    "ProductUpdate.price": "oms.services.catalogue.edit_product (the product's currency)",
    "PoLineCreate.unit_cost": "oms.services.purchasing (the supplier's currency)",
    "SupplierSkuUpdate.unit_cost": "oms.services.replenishment (the supplier's currency)",
}


def _amounts() -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for model in MODELS:
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            for annotation in (field.annotation, *get_args(field.annotation)):
                if annotation is Decimal:
                    found[where] = list(field.metadata)
                elif get_origin(annotation) is Annotated and get_args(annotation)[0] is Decimal:
                    found[where] = [*get_args(annotation)[1:], *field.metadata]
    return found


def test_every_amount_the_api_takes_says_where_its_decimals_are_checked() -> None:
    assert sorted(_amounts()) == sorted(AMOUNT_CHECKED_IN)


@pytest.mark.parametrize("where", sorted(_amounts()))
def test_an_amount_is_never_negative_zero(where: str) -> None:
    metadata = [
        inner
        for m in _amounts()[where]
        for inner in (m.metadata if isinstance(m, FieldInfo) else [m])
    ]
    positive = any(getattr(m, "gt", None) == 0 for m in metadata)
    normalised = any(getattr(m, "func", None) is without_negative_zero for m in metadata)
    assert positive or normalised, f"{where}: use Price"
