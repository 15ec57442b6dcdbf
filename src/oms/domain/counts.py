"""Cycle counts: a count sheet for SKUs (or bins) at a location, counted blind or not,
reviewed for variance, approved into ``count`` movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

__all__ = ["CountLine", "CountSheet", "CountStatus", "count_status"]


class CountStatus(StrEnum):
    OPEN = "open"
    COUNTED = "counted"
    APPROVED = "approved"


@dataclass
class CountLine:
    sku: str
    bin: str | None
    counted: int | None = None


@dataclass
class CountSheet:
    id: UUID
    tenant_id: UUID
    location_id: UUID
    location_code: str
    blind: bool
    lines: list[CountLine]
    created_at: datetime
    created_by: str
    status: CountStatus = CountStatus.OPEN
    approved_at: datetime | None = None
    approved_by: str | None = None
    reason: str | None = None

    def line_for(self, sku: str) -> CountLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


def count_status(sheet: CountSheet) -> CountStatus:
    """Open until every line is counted; approved once its variances are posted."""
    if sheet.approved_at is not None:
        return CountStatus.APPROVED
    if all(line.counted is not None for line in sheet.lines):
        return CountStatus.COUNTED
    return CountStatus.OPEN
