"""CSV rows to commands: the documented columns of each import, Shopify's product export
read as it is, and a row's problems as ``(row, column, message)``.

Pure: no database. Each reader takes a row as the csv module gives it (header -> text)
and answers a command or the row's problems; what needs the database (an unknown location,
stock reserved) is found when the row is applied (``oms.services.imports``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.money import is_known_currency, minor_unit_problem
from oms.domain.orders import Customer
from oms.services.catalogue import NewProduct
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder

__all__ = [
    "COLUMNS",
    "CSV_CHANNEL",
    "ImportKind",
    "InventoryRow",
    "OrderRows",
    "RowError",
    "RowProblem",
    "group_order_rows",
    "inventory_row",
    "order_command",
    "product_fields_given",
    "product_rows",
]

CSV_CHANNEL = "csv"


class ImportKind(StrEnum):
    PRODUCTS = "products"
    INVENTORY = "inventory"
    ORDERS = "orders"


# The documented columns of each kind (docs/import.md); the first ones are required.
COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.PRODUCTS: (
        "sku",
        "name",
        "price",
        "currency",
        "kind",
        "weight_grams",
        "category",
        "barcode",
        "length_mm",
        "width_mm",
        "height_mm",
    ),
    ImportKind.INVENTORY: ("sku", "location", "on_hand", "safety_stock"),
    ImportKind.ORDERS: (
        "order_id",
        "currency",
        "sku",
        "quantity",
        "unit_price",
        "tax",
        "email",
        "customer_name",
        "phone",
        "ship_name",
        "ship_company",
        "ship_line1",
        "ship_line2",
        "ship_city",
        "ship_region",
        "ship_postal_code",
        "ship_country",
        "ship_phone",
        "shipping_price",
        "paid",
        "pickup_location",
        "service_level",
        "tags",
        "note",
    ),
}
REQUIRED: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.PRODUCTS: ("sku", "name", "price"),
    ImportKind.INVENTORY: ("sku", "location"),
    ImportKind.ORDERS: ("order_id", "currency", "sku", "quantity"),
}
# Shopify's inventory export names its columns so; they read as ours.
_INVENTORY_ALIASES = {"SKU": "sku", "Location": "location", "On hand": "on_hand"}


@dataclass(frozen=True)
class RowError:
    """One problem of one row: ``row`` counts the header as 1 (a spreadsheet's numbers)."""

    row: int
    column: str
    message: str


class RowProblem(Exception):
    """A row that cannot be applied, with its problems."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"{e.column}: {e.message}" for e in errors))
        self.errors = errors


def header_problems(kind: ImportKind, header: Iterable[str]) -> list[RowError]:
    """What is wrong with a file's header for ``kind`` (row 1); empty when it reads."""
    names = set(normal_header(kind, header))
    if kind is ImportKind.PRODUCTS and is_shopify_products(names):
        return []
    missing = [c for c in REQUIRED[kind] if c not in names]
    if kind is ImportKind.INVENTORY and not {"on_hand", "safety_stock"} & names:
        missing.append("on_hand")
    return [RowError(1, column, "a required column is missing") for column in missing]


def normal_header(kind: ImportKind, header: Iterable[str]) -> list[str]:
    """The header with spaces trimmed (and Shopify's inventory names read as ours)."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    if kind is ImportKind.INVENTORY:
        names = [_INVENTORY_ALIASES.get(name, name) for name in names]
    if kind is not ImportKind.PRODUCTS or not is_shopify_products(set(names)):
        names = [name.lower() for name in names]
    return names


def is_shopify_products(names: set[str]) -> bool:
    """Whether a header is Shopify's product export (Handle, Variant SKU, ...)."""
    return {"Handle", "Variant SKU", "Variant Price"} <= names


class _Row:
    """Reads one row's cells, collecting its problems instead of stopping at the first."""

    def __init__(self, number: int, cells: Mapping[str, str | None]) -> None:
        self.number = number
        self.cells = cells
        self.errors: list[RowError] = []

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = (self.cells.get(column) or "").strip()
        if not value:
            if required:
                self.fail(column, "required")
            return None
        return value

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def integer(self, column: str, *, required: bool = False, minimum: int = 0) -> int | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        if value.isascii() and value.isdigit():  # the usual cell, read without a Decimal
            whole = int(value)
            if whole < minimum:
                self.fail(column, f"at least {minimum}")
                return None
            return whole
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(column, f"{value!r} is not a number")
            return None
        if number != number.to_integral_value():
            self.fail(column, f"{value!r} is not a whole number")
            return None
        if number < minimum:
            self.fail(column, f"at least {minimum}")
            return None
        return int(number)

    def amount(
        self, column: str, currency: str | None, *, required: bool = False
    ) -> Decimal | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self.fail(column, f"{value!r} is not an amount")
            return None
        if not amount.is_finite() or amount < 0:
            self.fail(column, f"{value!r} is not an amount of zero or more")
            return None
        if currency is not None and is_known_currency(currency):
            problem = minor_unit_problem(amount, currency)
            if problem is not None:
                self.fail(column, f"{value} {problem}")
                return None
        return amount

    def flag(self, column: str) -> bool | None:
        value = self.text(column)
        if value is None:
            return None
        lowered = value.lower()
        if lowered in {"true", "yes", "1", "y"}:
            return True
        if lowered in {"false", "no", "0", "n"}:
            return False
        self.fail(column, f"{value!r} is not true or false")
        return None

    def currency(self, column: str, default: str | None) -> str | None:
        value = self.text(column)
        code = (value or default or "").upper() or None
        if code is None:
            self.fail(column, "required (a column, or --currency for the whole file)")
        elif not is_known_currency(code):
            self.fail(column, f"{code!r} is not a currency in use (ISO 4217)")
            return None
        return code

    def done(self) -> None:
        if self.errors:
            raise RowProblem(self.errors)


# --- products ---------------------------------------------------------------------------------


def _own_product(row: _Row, default_currency: str | None) -> NewProduct:
    currency = row.currency("currency", default_currency)
    sku, name = row.text("sku", required=True), row.text("name", required=True)
    price = row.amount("price", currency, required=True)
    kind_text = row.text("kind") or ProductKind.PHYSICAL.value
    kinds = {ProductKind.PHYSICAL.value, ProductKind.DIGITAL.value}
    if kind_text not in kinds:
        row.fail("kind", "physical or digital (bundles are made through the API)")
    weight = row.integer("weight_grams")
    dims = [row.integer(c, minimum=1) for c in ("length_mm", "width_mm", "height_mm")]
    row.done()
    assert sku is not None
    assert name is not None
    assert price is not None
    assert currency is not None
    return NewProduct(
        sku=sku,
        name=name,
        price=price,
        currency=currency,
        kind=ProductKind(kind_text),
        weight_grams=weight or 0,
        category=row.text("category"),
        barcode=row.text("barcode"),
        length_mm=dims[0],
        width_mm=dims[1],
        height_mm=dims[2],
    )


@dataclass
class _ShopifyProduct:
    """What a Shopify handle's first row says for all its variant rows."""

    handle: str
    title: str | None
    category: str | None
    gift_card: bool


def _shopify_variant(
    row: _Row, product: _ShopifyProduct, default_currency: str | None
) -> NewProduct | None:
    """A Shopify export row as a product (one per variant); None for an image-only row."""
    sku = row.text("Variant SKU")
    options = [row.text(f"Option{n} Value") for n in (1, 2, 3)]
    if sku is None and row.text("Variant Price") is None and not any(options):
        return None  # an extra image of the product: nothing for oms
    currency = default_currency  # checked once for the file (imports.file_problems)
    if currency is None:
        row.fail("Variant Price", "the shop's currency is not in the file: give --currency")
    if sku is None:
        row.fail("Variant SKU", "required: oms knows products by SKU")
    if product.title is None:
        row.fail("Title", "required on the first row of a handle")
    price = row.amount("Variant Price", currency, required=True)
    grams = row.text("Variant Grams")
    weight = 0
    if grams is not None:
        try:
            weight = round(Decimal(grams))
        except InvalidOperation:
            row.fail("Variant Grams", f"{grams!r} is not a number")
    ships = row.flag("Variant Requires Shipping")
    row.done()
    assert sku is not None
    assert price is not None
    assert currency is not None
    assert product.title is not None
    named = [o for o in options if o and o != "Default Title"]
    return NewProduct(
        sku=sku,
        name=" / ".join([product.title, *named]) if named else product.title,
        price=price,
        currency=currency,
        kind=ProductKind.DIGITAL if product.gift_card or ships is False else ProductKind.PHYSICAL,
        weight_grams=max(weight, 0),
        category=product.category,
        barcode=row.text("Variant Barcode"),
    )


def product_rows(
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
    *,
    shopify: bool,
    default_currency: str | None,
) -> Iterator[tuple[int, NewProduct | RowProblem | None]]:
    """Each row as a product, None (a Shopify image row: skipped) or its problems."""
    current: _ShopifyProduct | None = None
    for number, cells in rows:
        row = _Row(number, cells)
        try:
            if not shopify:
                yield number, _own_product(row, default_currency)
                continue
            handle = row.text("Handle", required=True)
            if handle is None:
                row.done()
            assert handle is not None
            if current is None or current.handle != handle:
                current = _ShopifyProduct(
                    handle=handle,
                    title=row.text("Title"),
                    category=row.text("Type") or row.text("Product Category"),
                    gift_card=row.flag("Gift Card") is True,
                )
            yield number, _shopify_variant(row, current, default_currency)
        except RowProblem as problem:
            yield number, problem


_SHOPIFY_GIVES = frozenset(
    {"name", "price", "currency", "kind", "weight_grams", "category", "barcode"}
)


def product_fields_given(header: Iterable[str], currency: str | None) -> frozenset[str]:
    """The product fields a file sets (its columns; the currency also by --currency): an
    update leaves the others as they are."""
    names = set(header)
    if is_shopify_products(names):
        return _SHOPIFY_GIVES
    given = names & set(COLUMNS[ImportKind.PRODUCTS])
    return frozenset(given | ({"currency"} if currency is not None else set()))


# --- inventory --------------------------------------------------------------------------------


class InventoryRow(NamedTuple):
    """A level to set: on hand counted (and safety stock) of a SKU at a location. A tuple:
    an import makes one per row (a frozen dataclass sets each field through a call)."""

    row: int
    sku: str
    location: str
    on_hand: int | None
    safety_stock: int | None


def inventory_row(number: int, cells: Mapping[str, str | None]) -> InventoryRow:
    """One inventory row, or RowProblem."""
    row = _Row(number, cells)
    sku, location = row.text("sku", required=True), row.text("location", required=True)
    on_hand, safety = row.integer("on_hand"), row.integer("safety_stock")
    if on_hand is None and safety is None and not row.errors:
        row.fail("on_hand", "required (or a safety_stock)")
    row.done()
    assert sku is not None
    assert location is not None
    return InventoryRow(number, sku, location, on_hand, safety)


# --- orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRows:
    """The consecutive rows of one order (its first row carries the order's fields)."""

    rows: list[tuple[int, Mapping[str, str | None]]]

    @property
    def first(self) -> int:
        return self.rows[0][0]


def group_order_rows(
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
) -> Iterator[OrderRows]:
    """Consecutive rows with the same ``order_id`` as one order each."""
    group: list[tuple[int, Mapping[str, str | None]]] = []
    current: str | None = None
    for number, cells in rows:
        order_id = (cells.get("order_id") or "").strip()
        if group and order_id != current:
            yield OrderRows(group)
            group = []
        current = order_id
        group.append((number, cells))
    if group:
        yield OrderRows(group)


_ADDRESS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "phone")


def order_command(order: OrderRows) -> PlaceOrder:
    """One order's rows as the intake's command (channel ``csv``), or RowProblem."""
    first = _Row(*order.rows[0])
    external_id = first.text("order_id", required=True)
    currency = first.currency("currency", None)
    errors = first.errors
    lines: list[LineRequest] = []
    for number, cells in order.rows:
        row = first if number == order.first else _Row(number, cells)
        sku = row.text("sku", required=True)
        quantity = row.integer("quantity", required=True, minimum=1)
        price = row.amount("unit_price", currency)
        tax = row.amount("tax", currency)
        if row is not first:
            errors.extend(row.errors)
        if sku is not None and quantity is not None:
            lines.append(LineRequest(sku, quantity, price, tax or Decimal(0)))
    shipping_price = first.amount("shipping_price", currency)
    paid = first.flag("paid")
    if errors:
        raise RowProblem(errors)
    assert external_id is not None
    assert currency is not None
    ship = {name: first.text(f"ship_{name}") for name in _ADDRESS}
    country = first.text("ship_country")
    address = None
    if country is not None or any(ship.values()):
        address = Address(
            country=(country or "").upper(),
            name=ship["name"],
            company=ship["company"],
            line1=ship["line1"],
            line2=ship["line2"],
            city=ship["city"],
            region=ship["region"],
            postal_code=ship["postal_code"],
            phone=ship["phone"],
        )
    email = first.text("email")
    tags = first.text("tags")
    return PlaceOrder(
        currency=currency,
        lines=tuple(lines),
        channel=CSV_CHANNEL,
        external_id=external_id,
        customer=Customer(
            email=None if email is None else email.lower(),
            name=first.text("customer_name"),
            phone=first.text("phone"),
        ),
        shipping_address=address,
        tags=tuple(t.strip() for t in tags.split(",") if t.strip()) if tags else (),
        note=first.text("note"),
        shipping_price=shipping_price or Decimal(0),
        payment=ChannelPayment(gateway="manual", captured=True) if paid else None,
        service_level=first.text("service_level") or "standard",
        pickup_location=first.text("pickup_location"),
    )


def order_columns(pointer: str) -> str:
    """The CSV column an intake error's JSON pointer stands for ('' when none does)."""
    parts = pointer.removeprefix("#/").split("/")
    if parts[0] == "lines":
        return parts[2] if len(parts) > 2 else "sku"
    if parts[0] == "shipping_address" and len(parts) > 1:
        return f"ship_{parts[1]}" if parts[1] != "country" else "ship_country"
    if parts[0] == "customer" and len(parts) > 1:
        return {"name": "customer_name"}.get(parts[1], parts[1])
    if parts[0] == "payment":
        return "paid"
    return parts[0] if parts[0] in COLUMNS[ImportKind.ORDERS] else ""


def line_row(order: OrderRows, pointer: str) -> int:
    """The row of the line an intake error's pointer names (the first row otherwise)."""
    parts = pointer.removeprefix("#/").split("/")
    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(order.rows):
            return order.rows[index][0]
    return order.first
