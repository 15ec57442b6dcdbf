"""Shapes shared by several resources: addresses, money, pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from oms.domain import lengths
from oms.domain.addresses import Address
from oms.domain.money import (
    is_known_currency,
    minor_unit_problem,
    round_money,
    without_negative_zero,
)

__all__ = [
    "MAX_PRICE",
    "NUL_FREE",
    "NUL_MESSAGE",
    "AddressIn",
    "AddressOut",
    "BoxCode",
    "CarrierCode",
    "CarrierServiceCode",
    "Code",
    "Currency",
    "Page",
    "Price",
    "Sku",
    "Strict",
    "UtcTime",
    "in_utc",
    "money_text",
    "refuse_amounts_finer_than",
]

T = TypeVar("T")

# Every length comes from oms.domain.lengths, as the columns' do.
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.SKU)]
_CODE = r"^[A-Za-z0-9._-]+$"
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=lengths.LOCATION_CODE, pattern=_CODE
    ),
]
BoxCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.BOX)
]
CarrierCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=lengths.CARRIER, pattern=_CODE
    ),
]
CarrierServiceCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=lengths.CARRIER_SERVICE, pattern=_CODE
    ),
]
# Free text kept in a JSON document (an address) or a text column: long enough for anything.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=lengths.PERSON_NAME)
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.PHONE)]


def in_utc(value: datetime) -> datetime:
    """``value`` as the same instant in UTC; refused without an offset, or when the instant
    falls outside the years 1 to 9999 that Python (and so every time here) can hold."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("timezone_aware", "give an offset, e.g. 2026-01-01T00:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_out_of_range", "is before year 1 or after year 9999 in UTC"
        ) from None


# Every time the API takes, in a body or a query: tests/unit/test_api_schemas.py checks.
UtcTime = Annotated[datetime, AfterValidator(in_utc)]


# Text that PostgreSQL can store: it can neither store nor compare text holding NUL.
NUL_FREE = r"^[^\x00]*$"
NUL_MESSAGE = "text cannot contain the NUL character"


def _refuse_nul(node: object) -> None:
    if isinstance(node, dict):
        if node.get("type") == "str" and "pattern" not in node:
            node["pattern"] = NUL_FREE
        for value in node.values():
            _refuse_nul(value)
    elif isinstance(node, list):
        for value in node:
            _refuse_nul(value)


def _without_nul_pattern(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _without_nul_pattern(value)
            for key, value in node.items()
            if not (key == "pattern" and value == NUL_FREE)
        }
    if isinstance(node, list):
        return [_without_nul_pattern(value) for value in node]
    return node


class Strict(BaseModel):
    """Unknown fields are refused, so a typo never silently drops data; so is text with NUL.

    Every text value of the model (fields, list items, dict keys and values) that has no
    pattern of its own gets ``NUL_FREE`` as its pattern: checked by pydantic-core itself, at
    no Python call per field. The patterns of their own admit no NUL either
    (``tests/unit/test_api_schemas.py`` checks every model). The extra pattern is left out
    of the JSON schema, and the error names the field and says why.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        _refuse_nul(schema)
        return schema

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        published: JsonSchemaValue = _without_nul_pattern(handler(core_schema))
        return published


class AddressIn(Strict):
    name: ShortText | None = None
    company: ShortText | None = None
    line1: ShortText | None = None
    line2: ShortText | None = None
    city: ShortText | None = None
    region: ShortText | None = None
    postal_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.POSTAL_CODE)]
        | None
    ) = None
    country: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, to_upper=True, max_length=2, pattern=r"^[A-Za-z]{2}$"
        ),
    ] = Field(description="ISO 3166-1 alpha-2 country code")
    phone: Phone | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    def to_domain(self) -> Address:
        return Address(**self.model_dump())


class AddressOut(BaseModel):
    name: str | None
    company: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, address: Address | None) -> AddressOut | None:
        return None if address is None else cls(**address.to_dict())


def _money_currency(code: str) -> str:
    if not is_known_currency(code):
        raise PydanticCustomError(
            "currency", "must be the ISO 4217 code of a currency in use (not XXX, XTS, XAU...)"
        )
    return code


# Money (oms.domain.money): a currency in use; an amount within NUMERIC(18, 4), never
# negative zero, and within its currency's minor unit (``refuse_amounts_finer_than``, from
# the model that holds both).
Currency = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, max_length=lengths.CURRENCY, pattern=r"^[A-Za-z]{3}$"
    ),
    AfterValidator(_money_currency),
]
MAX_PRICE = Decimal("99999999999999")
Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, max_digits=18, decimal_places=4),
    AfterValidator(without_negative_zero),
]


def refuse_amounts_finer_than(
    currency: str, amounts: Iterable[tuple[tuple[str | int, ...], Decimal | None]]
) -> None:
    """Refuse, at its field path, each amount with more decimals than ``currency``'s minor
    unit (a JPY price of "1.5" is not "2"): the rule of ``oms.domain.money``, for a model
    whose body holds both the currency and the amounts."""
    problems = [
        InitErrorDetails(
            type=PydanticCustomError("money_decimals", problem),
            loc=loc,
            input=str(amount),
        )
        for loc, amount in amounts
        if amount and (problem := minor_unit_problem(amount, currency))  # 0 always fits
    ]
    if problems:
        raise ValidationError.from_exception_data("amounts", problems)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page"
    )


def money_text(amount: Decimal, currency: str) -> str:
    """A decimal string with exactly the currency's minor digits, e.g. "12.50"."""
    return format(round_money(amount, currency), "f")
