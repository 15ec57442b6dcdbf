"""``POST /status/{slug}/returns``: the customer asks for a return from the shop's order
status page (a shop's own front end posts it as JSON), by order number and email. Counted
against the public pages' rate limit; a wrong number or email answers 404 in the status
page's words. The answer says only the return's id and status. The status page's own HTML
form posts to ``/status/{slug}/returns/form`` (``oms.web.return_form``)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, StringConstraints

from oms.api.deps import UowDep
from oms.api.schemas.common import Strict
from oms.api.schemas.returns import ReturnLineIn
from oms.domain import lengths
from oms.domain.returns import Resolution, ReturnStatus, WantedLine
from oms.services.customer_returns import customer_return
from oms.services.returns import NewReturn
from oms.web import return_form
from oms.web.routes import RATE_LIMITED

__all__ = ["router"]

router = APIRouter(tags=["public"])
router.include_router(return_form.router)  # the same call as an HTML form on the page


class CustomerReturnCreate(Strict):
    number: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=lengths.EMAIL)]
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=100)]
    resolution: Literal["refund", "store_credit"] = "refund"
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CustomerReturnRead(BaseModel):
    id: UUID
    status: ReturnStatus


@router.post(
    "/status/{slug}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerReturnRead,
    dependencies=RATE_LIMITED,
)
def request_customer_return(
    slug: str, body: CustomerReturnCreate, uow: UowDep
) -> CustomerReturnRead:
    """Ask to return units of an order found by its number and the email it was placed
    with: 201 ``requested`` or ``approved`` (by the shop's return policy)."""
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
    )
    return CustomerReturnRead(id=found.id, status=found.status)
