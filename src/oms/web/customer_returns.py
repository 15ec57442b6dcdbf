"""``POST /status/{slug}/returns``: the customer asks for a return from the shop's order
status page (a shop's own front end posts it as JSON), by order number and email. Counted
against the public pages' rate limit; a wrong number or email answers 404 in the status
page's words. The answer says the return's id and status and, for an exchange, its
replacement order (number, what the returned units pay of it, what is left to pay). The
status page's own HTML form posts to ``/status/{slug}/returns/form``
(``oms.web.return_form``).

An exchange names, per returned line, one of the products the status page offers for it
(``returns.lines[].exchanges`` of ``GET /status/{slug}`` as JSON); the line's units are
exchanged one for one. Checked by the form's own rule (``customer_returns``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, StringConstraints

from oms.api.deps import GatewaysDep, UowDep
from oms.api.schemas.common import Strict, money_text
from oms.api.schemas.returns import ReturnLineIn
from oms.domain import lengths
from oms.domain.returns import Resolution, ReturnStatus, WantedLine
from oms.services.customer_returns import (
    LineReplacement,
    Replacement,
    customer_return,
    replacement_of,
)
from oms.services.returns import NewReturn
from oms.web import return_form
from oms.web.routes import RATE_LIMITED, PagesDep
from oms.web.schemas import ItemOut

__all__ = ["router"]

router = APIRouter(tags=["public"])
router.include_router(return_form.router)  # the same call as an HTML form on the page


class CustomerExchangeLineIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=100_000)] = Field(description="A returned line")
    sku: Annotated[str, StringConstraints(min_length=1, max_length=lengths.SKU)] = Field(
        description="One of the products offered for the line (GET /status/{slug}: "
        "returns.lines[].exchanges[].sku)"
    )


class CustomerReturnCreate(Strict):
    number: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=lengths.EMAIL)]
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=100)]
    resolution: Literal["refund", "store_credit", "exchange"] = "refund"
    exchange_lines: Annotated[list[CustomerExchangeLineIn], Field(max_length=100)] = Field(
        default_factory=list,
        description="exchange only: each returned line's replacement, as many units as "
        "the line sends back",
    )
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ExchangeOrderRead(BaseModel):
    number: int = Field(description="The replacement order's number")
    items: list[ItemOut]
    total: str
    covered: str = Field(description="What the returned units pay of it")
    to_pay: str = Field(description="What is left to pay; it is sent once paid")
    difference_refunded: bool = Field(
        description="Nothing left to pay: what the returned units are worth beyond the "
        "replacement comes back with the return's refund, once they arrive"
    )
    currency: str
    backordered: bool = Field(description="Some of it waits for stock")
    waits_for: str | None = Field(
        description="in_transit or received: it is sent once the return is; null: at once"
    )

    @classmethod
    def of(cls, found: Replacement) -> ExchangeOrderRead:
        def money(amount: Decimal) -> str:
            return money_text(amount, found.currency)

        return cls(
            number=found.number,
            items=[ItemOut(name=name, quantity=units) for name, units in found.items],
            total=money(found.total),
            covered=money(found.covered),
            to_pay=money(found.to_pay),
            difference_refunded=found.to_pay == 0,
            currency=found.currency,
            backordered=found.backordered,
            waits_for=found.waits_for,
        )


class CustomerReturnRead(BaseModel):
    id: UUID
    status: ReturnStatus
    exchange: ExchangeOrderRead | None = Field(
        default=None, description="exchange: the replacement order"
    )


@router.post(
    "/status/{slug}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerReturnRead,
    dependencies=RATE_LIMITED,
)
def request_customer_return(
    slug: str,
    body: CustomerReturnCreate,
    uow: UowDep,
    pages: PagesDep,
    gateways: GatewaysDep,
) -> CustomerReturnRead:
    """Ask to return units of an order found by its number and the email it was placed
    with: 201 ``requested`` or ``approved`` (by the shop's return policy). ``exchange``:
    each returned line's replacement is one the status page offers for it (422 pointing at
    any other), placed and reserved at once (409 ``exchange_out_of_stock`` when the shop
    refuses a size out of stock, or backordered)."""
    found = customer_return(
        uow_factory=uow,
        slug=slug,
        number=body.number,
        email=body.email,
        command=NewReturn(
            lines=tuple(WantedLine(ln.line_no, ln.quantity, ln.reason) for ln in body.lines),
            resolution=Resolution(body.resolution),
            note=body.note,
        ),
        gateways=gateways,
        replacements=[LineReplacement(e.line_no, e.sku) for e in body.exchange_lines],
        now=pages.clock.now(),
    )
    replacement = replacement_of(uow_factory=uow, request=found)
    return CustomerReturnRead(
        id=found.id,
        status=found.status,
        exchange=None if replacement is None else ExchangeOrderRead.of(replacement),
    )
