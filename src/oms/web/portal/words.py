"""What the portal's pages say about records: the routing explanation as sentences, a
hold's age and SLA colour, a timeline actor by name. Pure functions of what they are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from oms.domain.holds import Hold
from oms.domain.orders import Order

TIMES = "\u00d7"  # the multiplication sign: "2 x SKU"

__all__ = ["Package", "RoutingStory", "age_of", "routing_story", "sla_colour", "who"]


@dataclass(frozen=True)
class Package:
    """One planned parcel, in words."""

    location: str
    items: list[str]
    how: str
    when: str
    late: bool


@dataclass(frozen=True)
class RoutingStory:
    """The order's last routing: its parcels, why the winner won, what it cost, which
    other plans were weighed and which locations were left out, and why."""

    packages: list[Package]
    why: str | None
    cost: str | None
    alternatives: list[str]
    rejected: list[str]
    backordered: list[str]
    pickup: str | None


def _day(text: Any) -> str:
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return f"{day:%a} {day.day} {day:%b}"


def _items(order: Order, lines: Any) -> list[str]:
    by_no = {line.line_no: line for line in order.lines}
    found = []
    for pair in lines or []:
        line_no, units = int(pair[0]), int(pair[1])
        line = by_no.get(line_no)
        found.append(
            f"{units} \u00d7 {line.sku} ({line.name})" if line else f"{units} \u00d7 line {line_no}"
        )
    return found


def _package(order: Order, raw: Mapping[str, Any]) -> Package:
    currency = order.currency
    if raw.get("unpriced"):
        how = "no carrier service prices this parcel"
    elif raw.get("carrier"):
        how = f"{raw['carrier']} {raw.get('service', '')}".strip()
        if raw.get("shipping") is not None:
            how += f", shipping {raw['shipping']} {currency}"
        if raw.get("handling") not in (None, "0", "0.00"):
            how += f" + handling {raw['handling']} {currency}"
    else:
        how = "no carrier chosen"
    when = ""
    if raw.get("ship_on"):
        when = f"ships {_day(raw['ship_on'])}"
    if raw.get("deliver_by"):
        when += f", arrives by {_day(raw['deliver_by'])}"
    return Package(
        location=str(raw.get("location", "?")),
        items=_items(order, raw.get("lines")),
        how=how,
        when=when.strip(", "),
        late=bool(raw.get("late")),
    )


def _plan(raw: Mapping[str, Any], currency: str) -> str:
    where = " + ".join(str(code) for code in raw.get("locations", [])) or "nowhere"
    words = f"{where}: {raw.get('total', '?')} {currency}"
    if not raw.get("feasible", True):
        words += " (not possible"
        words += f": {raw['note']})" if raw.get("note") else ")"
    elif raw.get("note"):
        words += f" ({raw['note']})"
    return words


def routing_story(order: Order) -> RoutingStory | None:
    """The order's routing record in words; None when it was never routed."""
    record = order.routing
    if not record:
        return None
    rounds = record.get("rounds") or []
    last: Mapping[str, Any] = rounds[-1] if rounds else {}
    cost = last.get("cost")
    cost_words = None
    if isinstance(cost, Mapping):
        cost_words = (
            f"{cost.get('total')} {order.currency} in all: shipping {cost.get('shipping')}, "
            f"handling {cost.get('handling')}, extra parcels {cost.get('split_penalty')}, "
            f"lateness {cost.get('late_penalty')}"
        )
    considered = last.get("considered") or []
    by_no = {line.line_no: line for line in order.lines}
    backordered = [
        f"{units} {TIMES} {by_no[int(n)].sku if int(n) in by_no else 'line ' + n} waits for stock"
        for n, units in (record.get("backordered") or {}).items()
        if units
    ]
    return RoutingStory(
        packages=[_package(order, p) for p in record.get("packages") or []],
        why=last.get("why"),
        cost=cost_words,
        alternatives=[_plan(p, order.currency) for p in considered[1:]],
        rejected=[f"{r.get('location')}: {r.get('why')}" for r in last.get("rejected") or []],
        backordered=backordered,
        pickup=record.get("pickup_location"),
    )


def age_of(since: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit (``3 d``, ``5 h``, ``12 min``)."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min"


def sla_colour(hold: Hold, now: datetime) -> str:
    """``overdue`` past its due time, ``due-soon`` in the last quarter of its SLA (or
    within the hour), ``ok`` otherwise."""
    if hold.due_at <= now:
        return "overdue"
    left = hold.due_at - now
    if left <= max((hold.due_at - hold.created_at) / 4, timedelta(0)) or left <= timedelta(hours=1):
        return "due-soon"
    return "ok"


def who(actor: str, people: Mapping[str, str]) -> str:
    """A timeline actor as a person reads it: a user's email, or the actor as stored."""
    if actor in people:
        return people[actor]
    kind, _, rest = actor.partition(":")
    if kind == "api_key":
        return "API key " + rest[:8]
    return actor
