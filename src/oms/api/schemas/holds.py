"""Holds, the exceptions queue, and tenant policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints
from pydantic import Strict as PydanticStrict

from oms.api.schemas.common import Strict
from oms.domain.customs import DutiesTerms
from oms.domain.holds import Hold, HoldReason
from oms.domain.policies import Overpayment, TenantPolicies

__all__ = ["HoldCreate", "HoldRead", "HoldRelease", "PoliciesRead", "PoliciesUpdate"]

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class HoldCreate(Strict):
    reason: HoldReason = HoldReason.MANUAL
    note: Note | None = None


class HoldRelease(Strict):
    note: Note = Field(description="Why the hold is released; required")


class HoldRead(BaseModel):
    id: UUID
    order_id: UUID | None = None
    order_number: int | None = None
    reason: HoldReason
    note: str | None
    created_by: str
    created_at: datetime
    due_at: datetime
    overdue: bool
    released_at: datetime | None
    released_by: str | None
    release_note: str | None

    @classmethod
    def of(
        cls,
        hold: Hold,
        *,
        now: datetime,
        order_id: UUID | None = None,
        order_number: int | None = None,
    ) -> HoldRead:
        return cls(
            id=hold.id,
            order_id=order_id,
            order_number=order_number,
            reason=hold.reason,
            note=hold.note,
            created_by=hold.created_by,
            created_at=hold.created_at,
            due_at=hold.due_at,
            overdue=hold.is_overdue(now),
            released_at=hold.released_at,
            released_by=hold.released_by,
            release_note=hold.release_note,
        )


class PoliciesUpdate(Strict):
    hold_sla_hours: dict[str, Annotated[float, PydanticStrict()]] | None = Field(
        default=None, description="Hours a hold may stay open per reason before it is overdue"
    )
    authorization_ttl_hours: Annotated[float, PydanticStrict()] | None = None
    reservation_max_ttl_minutes: Annotated[int, PydanticStrict()] | None = None
    pickup_expiry_days: Annotated[int, PydanticStrict()] | None = Field(
        default=None, description="Days a store keeps a ready pickup before it is cancelled"
    )
    download_link_days: Annotated[int, PydanticStrict()] | None = Field(
        default=None, description="Days a digital download link stays valid"
    )
    overpayment: Overpayment | None = Field(
        default=None,
        description="Money captured beyond an order's total: refund it at once through its "
        "gateway, or review it (a refund_due item in the exceptions queue)",
    )
    duties_terms: DutiesTerms | None = Field(
        default=None, description="Duties terms of orders that name none: DAP or DDP"
    )
    nightly_hour: Annotated[int, PydanticStrict()] | None = Field(
        default=None,
        description="UTC hour (0-23) from which the worker runs the nightly forecasts, "
        "rollups and replenishment, once a day",
    )

    def merged_with(self, current: TenantPolicies) -> dict[str, Any]:
        raw = current.to_dict()
        if self.hold_sla_hours is not None:
            raw["hold_sla_hours"] = {**raw["hold_sla_hours"], **self.hold_sla_hours}
        for name in (
            "authorization_ttl_hours",
            "reservation_max_ttl_minutes",
            "pickup_expiry_days",
            "download_link_days",
            "overpayment",
            "duties_terms",
            "nightly_hour",
        ):
            value = getattr(self, name)
            if value is not None:
                raw[name] = value
        return raw


class PoliciesRead(BaseModel):
    hold_sla_hours: dict[str, float]
    authorization_ttl_hours: float
    reservation_max_ttl_minutes: int
    pickup_expiry_days: int
    download_link_days: int
    overpayment: Overpayment
    duties_terms: DutiesTerms = DutiesTerms.DAP
    nightly_hour: int = 2

    @classmethod
    def of(cls, policies: TenantPolicies) -> PoliciesRead:
        return cls(**policies.to_dict())
