"""Per-tenant policies: hold SLAs, authorization lifetime, cart reservation limits, how long
a store keeps an uncollected pickup, how long download links last, and what becomes of money
captured beyond an order's total."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.holds import DEFAULT_HOLD_SLAS, HoldReason

__all__ = ["Overpayment", "TenantPolicies"]

MAX_SLA_HOURS = 24 * 365


class Overpayment(StrEnum):
    """What happens to money captured beyond an order's total (it was cancelled, or lowered).

    ``refund``: oms refunds it at once through the gateway of the captures; a refund the
    gateway refuses leaves a ``refund_due`` item for a person. ``review``: a ``refund_due``
    item waits in the exceptions queue until someone refunds it.
    """

    REFUND = "refund"
    REVIEW = "review"


@dataclass(frozen=True)
class TenantPolicies:
    """What a tenant has decided; every field has a sensible default."""

    hold_sla_hours: Mapping[HoldReason, float] = field(
        default_factory=lambda: {r: s.total_seconds() / 3600 for r, s in DEFAULT_HOLD_SLAS.items()}
    )
    authorization_ttl_hours: float = 7 * 24
    reservation_max_ttl_minutes: int = 60
    pickup_expiry_days: int = 7
    download_link_days: int = 30
    overpayment: Overpayment = Overpayment.REVIEW
    # Orders that do not say: who pays duties across a border (oms.domain.customs).
    duties_terms: str = "DAP"
    # The UTC hour from which the worker runs the tenant's nightly decisions (forecasts,
    # rollups, replenishment; oms.services.nightly), once a day.
    nightly_hour: int = 2

    def hold_sla(self, reason: HoldReason) -> timedelta:
        """How long a hold of ``reason`` may stay open before it is overdue."""
        hours = self.hold_sla_hours.get(reason)
        return DEFAULT_HOLD_SLAS[reason] if hours is None else timedelta(hours=hours)

    @property
    def authorization_ttl(self) -> timedelta:
        return timedelta(hours=self.authorization_ttl_hours)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for storage and the API."""
        return {
            "hold_sla_hours": {r.value: h for r, h in sorted(self.hold_sla_hours.items())},
            "authorization_ttl_hours": self.authorization_ttl_hours,
            "reservation_max_ttl_minutes": self.reservation_max_ttl_minutes,
            "pickup_expiry_days": self.pickup_expiry_days,
            "download_link_days": self.download_link_days,
            "overpayment": self.overpayment.value,
            "duties_terms": self.duties_terms,
            "nightly_hour": self.nightly_hour,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> TenantPolicies:
        """Read stored or submitted policies, refusing bad values with field pointers."""
        if not raw:
            return cls()
        errors: list[FieldError] = []
        defaults = cls()
        slas = dict(defaults.hold_sla_hours)
        for key, hours in dict(raw.get("hold_sla_hours") or {}).items():
            pointer = f"#/hold_sla_hours/{key}"
            try:
                reason = HoldReason(key)
            except ValueError:
                errors.append(FieldError(pointer, "not a hold reason"))
                continue
            if (
                isinstance(hours, bool)
                or not isinstance(hours, int | float)
                or not 0 < hours <= MAX_SLA_HOURS
            ):
                errors.append(FieldError(pointer, f"hours between 0 and {MAX_SLA_HOURS}"))
                continue
            slas[reason] = float(hours)
        ttl = raw.get("authorization_ttl_hours", defaults.authorization_ttl_hours)
        if not isinstance(ttl, int | float) or not 0 < ttl <= MAX_SLA_HOURS:
            errors.append(FieldError("#/authorization_ttl_hours", "hours between 0 and 8760"))
            ttl = defaults.authorization_ttl_hours
        minutes = raw.get("reservation_max_ttl_minutes", defaults.reservation_max_ttl_minutes)
        if not isinstance(minutes, int) or not 1 <= minutes <= 7 * 24 * 60:
            errors.append(FieldError("#/reservation_max_ttl_minutes", "minutes from 1 to 10080"))
            minutes = defaults.reservation_max_ttl_minutes
        days: dict[str, int] = {}
        for name in ("pickup_expiry_days", "download_link_days"):
            value = raw.get(name, getattr(defaults, name))
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
                errors.append(FieldError(f"#/{name}", "whole days from 1 to 365"))
                value = getattr(defaults, name)
            days[name] = value
        overpayment = raw.get("overpayment", defaults.overpayment.value)
        if not isinstance(overpayment, str) or overpayment not in set(Overpayment):
            errors.append(FieldError("#/overpayment", "refund or review"))
            overpayment = defaults.overpayment.value
        duties = raw.get("duties_terms", defaults.duties_terms)
        if duties not in ("DAP", "DDP"):
            errors.append(FieldError("#/duties_terms", "DAP or DDP"))
            duties = defaults.duties_terms
        hour = raw.get("nightly_hour", defaults.nightly_hour)
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            errors.append(FieldError("#/nightly_hour", "a UTC hour from 0 to 23"))
            hour = defaults.nightly_hour
        if errors:
            raise InvalidRequest("The policies are not valid", errors)
        return cls(
            duties_terms=duties,
            nightly_hour=hour,
            hold_sla_hours=slas,
            authorization_ttl_hours=float(ttl),
            reservation_max_ttl_minutes=minutes,
            overpayment=Overpayment(overpayment),
            **days,
        )
