"""Replenishment: how much of a SKU to buy for a location, from its demand forecast and the
supplier's terms (lead time, review period, minimum order, pack size) and a service level.

The policy is an (s, S) policy checked daily:

- **safety stock** = z(service level) x sigma x sqrt(lead time), where sigma is the standard
  deviation of the forecast's daily backtest errors (``DemandForecast.error_sd``): a SKU
  whose forecast errs more carries more, none carries a constant;
- **reorder point** s = forecast demand over the lead time + safety stock;
- **order-up-to level** S = forecast demand over lead time + review period + safety stock;
- when the inventory position (on hand - reserved + on order) is at or below s, order
  S - position, raised to the minimum order quantity and rounded up to whole packs.

Demand over a period is the forecast's own daily means over those days (trend and season
included), not an average rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.forecasting import DemandForecast

__all__ = ["ReplenishmentPlan", "SupplyTerms", "plan_replenishment", "round_order"]

MAX_DAYS = 365


@dataclass(frozen=True)
class SupplyTerms:
    """What a supplier offers: days from order to receipt, days between orders, the least it
    sells and the pack it sells in; and the share of days the buyer wants to be in stock
    through a lead time (the cycle service level)."""

    lead_time_days: int
    review_period_days: int = 7
    service_level: float = 0.95
    moq: int = 1
    pack_size: int = 1
    supplier: str | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not 1 <= self.lead_time_days <= MAX_DAYS:
            errors.append(FieldError("/lead_time_days", f"must be 1 to {MAX_DAYS}"))
        if not 0 <= self.review_period_days <= MAX_DAYS:
            errors.append(FieldError("/review_period_days", f"must be 0 to {MAX_DAYS}"))
        if not 0.5 <= self.service_level < 1:
            errors.append(FieldError("/service_level", "must be at least 0.5 and below 1"))
        if self.moq < 1:
            errors.append(FieldError("/moq", "must be 1 or more"))
        if self.pack_size < 1:
            errors.append(FieldError("/pack_size", "must be 1 or more"))
        if errors:
            raise InvalidRequest("bad supply terms", errors)


@dataclass(frozen=True)
class ReplenishmentPlan:
    """The levels of one SKU at one location and what to order now (0: nothing), with the
    reason in words."""

    sku: str
    location: str
    position: int
    demand_over_lead_time: float
    safety_stock: int
    reorder_point: int
    order_up_to: int
    quantity: int
    reason: str


def round_order(shortfall: int, terms: SupplyTerms) -> int:
    """What to order for a ``shortfall``: at least the minimum order, in whole packs."""
    wanted = max(shortfall, terms.moq)
    return math.ceil(wanted / terms.pack_size) * terms.pack_size


def plan_replenishment(
    *, forecast: DemandForecast, position: int, terms: SupplyTerms, today: date | None = None
) -> ReplenishmentPlan:
    """The reorder point, order-up-to level and suggested order of the forecast's SKU at
    its location for an inventory position of ``position`` units on ``today`` (default the
    forecast's first day)."""
    first = today or forecast.history_end + timedelta(days=1)
    lead = terms.lead_time_days
    over_lead = forecast.demand_over(lead, first=first)
    over_cover = forecast.demand_over(lead + terms.review_period_days, first=first)
    z = NormalDist().inv_cdf(terms.service_level)
    safety = math.ceil(max(0.0, z * forecast.error_sd * math.sqrt(lead)))
    reorder_point = math.ceil(over_lead) + safety
    order_up_to = max(reorder_point, math.ceil(over_cover) + safety)
    quantity = 0
    if position <= reorder_point:
        quantity = round_order(order_up_to - position, terms)
    reason = _reason(
        forecast=forecast,
        terms=terms,
        position=position,
        over_lead=over_lead,
        safety=safety,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        quantity=quantity,
    )
    return ReplenishmentPlan(
        sku=forecast.sku,
        location=forecast.location,
        position=position,
        demand_over_lead_time=round(over_lead, 2),
        safety_stock=safety,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        quantity=quantity,
        reason=reason,
    )


def _reason(
    *,
    forecast: DemandForecast,
    terms: SupplyTerms,
    position: int,
    over_lead: float,
    safety: int,
    reorder_point: int,
    order_up_to: int,
    quantity: int,
) -> str:
    levels = (
        f"forecast demand over the {terms.lead_time_days}-day lead time is {over_lead:.1f} "
        f"units; safety stock {safety} for a {terms.service_level:.0%} service level "
        f"(daily forecast error {forecast.error_sd:.2f}); reorder point {reorder_point}"
    )
    if quantity == 0:
        return f"no order: position {position} is above the reorder point ({levels})"
    shortfall = order_up_to - position
    extra = ""
    if quantity != shortfall:
        extra = f", raised to {quantity} by a minimum order of {terms.moq} and packs of "
        extra += f"{terms.pack_size}"
    trust = "" if forecast.beats_baseline else "; the forecast did not beat seasonal-naive"
    return (
        f"order {shortfall} to bring position {position} up to {order_up_to} "
        f"(cover for lead time + {terms.review_period_days}-day review period){extra}: "
        f"{levels}{trust}"
    )
