"""The dashboard as the API returns it (docs/dashboard.md defines every figure)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from oms.api.schemas.common import money_text
from oms.services.dashboard import AGE_BUCKETS, Dashboard, Rate

__all__ = ["DashboardRead"]


class DayCount(BaseModel):
    day: date
    orders: int


class OrdersFigures(BaseModel):
    in_range: int = Field(description="Orders placed on the days of the range")
    today: int = Field(description="Orders placed today (UTC), whatever the range")
    per_day: list[DayCount] = Field(description="Every day of the range, days without any too")


class BacklogFigures(BaseModel):
    total: int = Field(description="Open or held orders with units still to ship, now")
    by_status: dict[str, int]
    by_age: dict[str, int] = Field(description=f"Since placed: {', '.join(AGE_BUCKETS)}")


class HoldFigures(BaseModel):
    reason: str
    open: int
    past_sla: int = Field(description="Open holds whose due time (placed + SLA) has passed")


class Shipped(BaseModel):
    shipments: int
    orders: int


class RateFigures(BaseModel):
    of: int
    met: int
    rate: Decimal | None = Field(description="met / of to four places; null when of is 0")

    @classmethod
    def of_rate(cls, rate: Rate) -> RateFigures:
        return cls(of=rate.of, met=rate.met, rate=rate.value)


class ShippingCost(BaseModel):
    currency: str
    shipments: int
    orders: int
    total: str
    per_order: str


class DashboardRead(BaseModel):
    tenant_id: UUID | None = Field(description="null: every tenant (an operator key)")
    from_: date = Field(serialization_alias="from")
    to: date
    time_zone: str = Field(description="Days are days of this zone (always UTC)")
    as_of: datetime
    orders: OrdersFigures
    backlog: BacklogFigures
    holds: list[HoldFigures]
    shipped_today: Shipped
    on_time_ship_rate: RateFigures
    split_rate: RateFigures
    shipping_cost: list[ShippingCost]
    fulfilment_errors: dict[str, int | None] = Field(
        description="Counts by cause over the range; scan_mismatches is null: not recorded"
    )

    @classmethod
    def of(cls, found: Dashboard) -> DashboardRead:
        return cls(
            tenant_id=found.tenant_id,
            from_=found.days.first,
            to=found.days.last,
            time_zone="UTC",
            as_of=found.as_of,
            orders=OrdersFigures(
                in_range=found.orders_in_range,
                today=found.orders_today,
                per_day=[DayCount(day=d, orders=n) for d, n in found.orders_per_day],
            ),
            backlog=BacklogFigures(
                total=found.backlog.total,
                by_status=found.backlog.by_status,
                by_age=found.backlog.by_age,
            ),
            holds=[
                HoldFigures(reason=h.reason, open=h.open, past_sla=h.past_sla) for h in found.holds
            ],
            shipped_today=Shipped(shipments=found.shipped_today.of, orders=found.shipped_today.met),
            on_time_ship_rate=RateFigures.of_rate(found.on_time_ship_rate),
            split_rate=RateFigures.of_rate(found.split_rate),
            shipping_cost=[
                ShippingCost(
                    currency=s.currency,
                    shipments=s.shipments,
                    orders=s.orders,
                    total=money_text(s.total, s.currency),
                    per_order=money_text(s.per_order, s.currency),
                )
                for s in found.shipping_cost
            ],
            fulfilment_errors={**found.fulfilment_errors, "scan_mismatches": None},
        )
