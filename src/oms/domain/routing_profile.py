"""A tenant's routing profile: the rules the router works under, versioned.

Every change makes a new version; each order records the version it was routed with, so
"why did this order go there" can be answered later against the rules of that day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.routing_lookahead import LookaheadSettings

__all__ = ["DEFAULT_SERVICE_LEVELS", "READ_ONLY_FIELDS", "RoutingProfile"]

DEFAULT_SERVICE_LEVELS: dict[str, int] = {"standard": 5, "express": 2, "overnight": 1}

READ_ONLY_FIELDS = frozenset({"version", "created_at", "created_by"})
"""What a profile document says about a saved version rather than how to route. The API
shows them beside the settings; a document sent back (``PUT``, ``oms routing simulate``)
may carry them unchanged and they are ignored, so what is read can be written back."""


def _amount(raw: Any, pointer: str, errors: list[FieldError]) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(pointer, "must be a decimal amount"))
        return Decimal(0)
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 9:
        errors.append(FieldError(pointer, "must be an amount from 0 to 999999999"))
        return Decimal(0)
    return value


def _count(raw: Any, pointer: str, errors: list[FieldError], *, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        errors.append(FieldError(pointer, f"must be a whole number from {low} to {high}"))
        return low
    return raw


@dataclass(frozen=True)
class RoutingProfile:
    """Costs and limits per location are keyed by location code."""

    version: int = 0
    allow_split: bool = True
    max_locations: int = 3
    excluded_locations: tuple[str, ...] = ()
    ship_from_store: bool = True
    daily_capacity: Mapping[str, int] = field(default_factory=dict)
    safety_stock: Mapping[str, int] = field(default_factory=dict)
    handling_cost: Mapping[str, Decimal] = field(default_factory=dict)
    default_handling_cost: Decimal = Decimal(0)
    split_penalty: Decimal = Decimal(0)
    service_levels: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SERVICE_LEVELS))
    # Charge the depletion of stock that forecast demand near a location will need
    # (oms.domain.routing_lookahead); off by default.
    lookahead: LookaheadSettings = field(default_factory=LookaheadSettings)

    def handling_at(self, code: str) -> Decimal:
        return self.handling_cost.get(code, self.default_handling_cost)

    def promise_days(self, service_level: str) -> int | None:
        """Business days promised for ``service_level``; None when the level is unknown."""
        return self.service_levels.get(service_level)

    def by_code(self, code_of: Callable[[str], str]) -> RoutingProfile:
        """The profile with every location it names (by id or code) named by its code, as
        routing matches them; ``code_of`` answers a location's code, or what it was given
        for a location it does not know. Two names of one location in one setting are
        refused."""
        errors: list[FieldError] = []

        def keyed(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
            coded: dict[str, Any] = {}
            for ref, value in values.items():
                code = code_of(ref)
                if code in coded:
                    errors.append(FieldError(f"#/{name}/{ref}", f"names {code} a second time"))
                coded[code] = value
            return coded

        named = replace(
            self,
            excluded_locations=tuple(sorted({code_of(ref) for ref in self.excluded_locations})),
            daily_capacity=keyed("daily_capacity", self.daily_capacity),
            safety_stock=keyed("safety_stock", self.safety_stock),
            handling_cost=keyed("handling_cost", self.handling_cost),
        )
        if errors:
            raise InvalidRequest("The routing profile is not valid", errors)
        return named

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored per version and shown by the API (without the version)."""
        return {
            "allow_split": self.allow_split,
            "max_locations": self.max_locations,
            "excluded_locations": list(self.excluded_locations),
            "ship_from_store": self.ship_from_store,
            "daily_capacity": dict(self.daily_capacity),
            "safety_stock": dict(self.safety_stock),
            "handling_cost": {k: str(v) for k, v in self.handling_cost.items()},
            "default_handling_cost": str(self.default_handling_cost),
            "split_penalty": str(self.split_penalty),
            "service_levels": dict(self.service_levels),
            "lookahead": self.lookahead.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, version: int = 0) -> RoutingProfile:
        """Read a stored or submitted profile; bad values are refused with field pointers
        (``READ_ONLY_FIELDS`` are skipped)."""
        errors: list[FieldError] = []
        known = set(cls().to_dict())
        for key in raw:
            if key not in known and key not in READ_ONLY_FIELDS:
                errors.append(FieldError(f"#/{key}", "not a routing profile setting"))

        def flag(name: str, default: bool) -> bool:
            value = raw.get(name, default)
            if not isinstance(value, bool):
                errors.append(FieldError(f"#/{name}", "must be true or false"))
                return default
            return value

        def codes(name: str) -> Mapping[str, Any]:
            value = raw.get(name, {})
            if not isinstance(value, Mapping):
                errors.append(FieldError(f"#/{name}", "must be an object keyed by location code"))
                return {}
            return value

        excluded = raw.get("excluded_locations", [])
        if not isinstance(excluded, list) or not all(isinstance(c, str) for c in excluded):
            errors.append(FieldError("#/excluded_locations", "must be a list of location codes"))
            excluded = []
        levels = raw.get("service_levels", DEFAULT_SERVICE_LEVELS)
        if not isinstance(levels, Mapping) or not levels:
            errors.append(FieldError("#/service_levels", "must map level names to days"))
            levels = DEFAULT_SERVICE_LEVELS
        profile = cls(
            version=version,
            allow_split=flag("allow_split", True),
            max_locations=_count(
                raw.get("max_locations", 3), "#/max_locations", errors, low=1, high=20
            ),
            excluded_locations=tuple(sorted(set(excluded))),
            ship_from_store=flag("ship_from_store", True),
            daily_capacity={
                k: _count(v, f"#/daily_capacity/{k}", errors, low=0, high=10_000_000)
                for k, v in codes("daily_capacity").items()
            },
            safety_stock={
                k: _count(v, f"#/safety_stock/{k}", errors, low=0, high=1_000_000_000)
                for k, v in codes("safety_stock").items()
            },
            handling_cost={
                k: _amount(v, f"#/handling_cost/{k}", errors)
                for k, v in codes("handling_cost").items()
            },
            default_handling_cost=_amount(
                raw.get("default_handling_cost", "0"), "#/default_handling_cost", errors
            ),
            split_penalty=_amount(raw.get("split_penalty", "0"), "#/split_penalty", errors),
            service_levels={
                str(k): _count(v, f"#/service_levels/{k}", errors, low=0, high=60)
                for k, v in dict(levels).items()
            },
            lookahead=LookaheadSettings.from_raw(raw.get("lookahead", {}), errors),
        )
        if errors:
            raise InvalidRequest("The routing profile is not valid", errors)
        return profile
