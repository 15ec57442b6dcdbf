"""Reading a store's JSON the way every REST adapter must: integers stay ``int`` (64-bit ids
never pass through a float), numbers with a point become ``Decimal`` exactly as written,
amounts and texts read leniently. Each adapter passes its own ``PayloadRefused`` subclass."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oms.services.channels import PayloadRefused

__all__ = ["integer_id", "money", "parse_json", "text", "utc_time"]


def parse_json(raw: bytes, error: type[PayloadRefused]) -> Any:
    """The body parsed: ints as ``int`` of any size, decimals as ``Decimal``."""
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as problem:
        raise error(f"the body is not JSON: {problem}") from None


def integer_id(raw: Any, what: str, error: type[PayloadRefused]) -> str:
    """A store's integer id as its decimal digits (an ``int``, or a string of digits)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise error(f"the {what} has no integer id")
    found = str(raw)
    if not found.isdigit():
        raise error(f"the {what} id {found!r} is not an integer")
    return found


def money(raw: Any, error: type[PayloadRefused]) -> Decimal:
    """An amount sent as a string or a number; missing or empty is zero."""
    if raw is None or raw == "":
        return Decimal(0)
    try:
        return Decimal(str(raw))
    except ArithmeticError:
        raise error(f"{raw!r} is not an amount") from None


def text(raw: Any) -> str | None:
    """A trimmed string, or None for a missing or blank one."""
    if raw is None or isinstance(raw, Mapping | list):
        return None
    found = str(raw).strip()
    return found or None


def utc_time(raw: Any, what: str, error: type[PayloadRefused]) -> datetime:
    """An ISO 8601 time (``2026-12-07T09:14:24`` or ``2026-12-07 09:14:24``); one without an
    offset is taken as UTC (the stores' ``*_gmt`` and ``updated_at`` fields are)."""
    if not isinstance(raw, str):
        raise error(f"the order has no {what}")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise error(f"{what} {raw!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
