"""Payment actions on an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from oms.api.schemas.common import Strict
from oms.domain import lengths

__all__ = ["PaymentActionIn"]


class PaymentActionIn(Strict):
    amount: (
        Annotated[
            Decimal, Field(gt=0, le=Decimal("99999999999999"), max_digits=18, decimal_places=4)
        ]
        | None
    ) = Field(default=None, description="Defaults to what is left to act on")
    gateway: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.GATEWAY)] | None
    ) = Field(
        default=None,
        description="authorize only: manual, test, or store_credit (spends the customer's "
        "store credit, captured at once; amount defaults to what is open, up to the balance)",
    )
    token: Annotated[str, StringConstraints(max_length=200)] | None = None
    parent_id: UUID | None = Field(
        default=None, description="The authorization (capture, void) or capture (refund)"
    )
