"""Markers of changed stock levels in memory: the same rules as ``stock_changes`` in SQL
(one marker per level, the first change's moment kept; claimed markers are gone)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from oms.services.stock_push import StockChange

__all__ = ["InMemoryStockChanges"]


class InMemoryStockChanges:
    """``StockChangeRepository`` in a dict, with ``mark`` standing in for the inventory
    repository's writes; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._markers: dict[tuple[UUID, str, UUID], datetime] = {}

    def mark(self, tenant_id: UUID, levels: Iterable[tuple[str, UUID]], at: datetime) -> None:
        """What a change of these levels leaves behind."""
        with self._lock:
            for sku, location_id in levels:
                self._markers.setdefault((tenant_id, sku, location_id), at)

    def claim_due(self, *, changed_before: datetime, limit: int) -> list[StockChange]:
        with self._lock:
            due = sorted(
                (at, str(key[0]), key[1], key)
                for key, at in self._markers.items()
                if at <= changed_before
            )[:limit]
            for *_, key in due:
                del self._markers[key]
        return [StockChange(key[0], key[1], key[2], at) for at, _, _, key in due]
