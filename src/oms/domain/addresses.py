"""Postal addresses, as every channel and carrier knows them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Address"]


@dataclass(frozen=True)
class Address:
    """A postal address; ``country`` is ISO 3166-1 alpha-2."""

    country: str
    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for storage and events (every field is a plain value: no deep copy)."""
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Address:
        """Rebuild from ``to_dict`` output, ignoring unknown keys."""

        def text(key: str) -> str | None:
            value = raw.get(key)
            return None if value is None else str(value)

        def number(key: str) -> float | None:
            value = raw.get(key)
            return None if value is None else float(value)

        return cls(
            country=str(raw["country"]),
            name=text("name"),
            company=text("company"),
            line1=text("line1"),
            line2=text("line2"),
            city=text("city"),
            region=text("region"),
            postal_code=text("postal_code"),
            phone=text("phone"),
            latitude=number("latitude"),
            longitude=number("longitude"),
        )


_FIELD_NAMES = tuple(f.name for f in fields(Address))
