"""Daily stock samples (``stock_days``): the lowest and last availability of each SKU at
each location per UTC day, as the worker's rollup refresh sees it (docs/analytics.md,
stock-out days). Written under the tenant's ``analytics_state`` lock, like the rollups."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from oms.adapters.db.tables import (
    analytics_facts,
    inventory_levels,
    inventory_movements,
    stock_days,
)
from oms.domain.stockouts import DEMAND_WINDOW, judge_days_out

__all__ = ["flag_stockouts", "sample_stock"]

_inv = inventory_levels.c
_mv = inventory_movements.c
_sd = stock_days.c


def sample_stock(conn: Connection, tenant_id: UUID, *, at: datetime, since: datetime | None) -> int:
    """Record today's (``at``'s UTC day) availability of the levels that changed since
    ``since`` (None: every level) or are out now, lowered by the ledger: a movement since
    then that left on hand at or below the safety stock means the SKU was out (whatever was
    reserved). Keeps the day's lowest; answers the rows written."""
    day = at.astimezone(UTC).date()
    free = _inv.on_hand - _inv.reserved - _inv.safety_stock
    query = select(_inv.sku, _inv.location_id, free.label("free"), _inv.safety_stock).where(
        _inv.tenant_id == tenant_id
    )
    if since is not None:
        query = query.where(or_(free <= 0, _inv.updated_at >= since))
    levels = {
        (row.sku, row.location_id): (int(row.free), int(row.safety_stock))
        for row in conn.execute(query)
    }
    start = datetime.combine(day, time(), tzinfo=UTC)
    if since is not None and since > start:
        start = since
    moved = {
        (row.sku, row.location_id): int(row.low)
        for row in conn.execute(
            select(_mv.sku, _mv.location_id, func.min(_mv.on_hand_after).label("low"))
            .where(_mv.tenant_id == tenant_id, _mv.created_at >= start, _mv.created_at <= at)
            .group_by(_mv.sku, _mv.location_id)
        )
    }
    missing = set(moved) - set(levels)
    if missing:  # moved, but its level changed last before ``since``: read it too
        for row in conn.execute(
            select(_inv.sku, _inv.location_id, free.label("free"), _inv.safety_stock).where(
                _inv.tenant_id == tenant_id, _inv.sku.in_(sorted({k[0] for k in missing}))
            )
        ):
            if (row.sku, row.location_id) in missing:
                levels[(row.sku, row.location_id)] = (int(row.free), int(row.safety_stock))
    lows = {key: free for key, (free, _) in levels.items()}
    for key, low in moved.items():
        if key in levels:
            lows[key] = min(lows[key], low - levels[key][1])
    return _upsert(conn, tenant_id, day, at, {k: (lows[k], levels[k][0]) for k in lows})


def _upsert(
    conn: Connection,
    tenant_id: UUID,
    day: date,
    at: datetime,
    samples: dict[tuple[str, UUID], tuple[int, int]],
) -> int:
    if not samples:
        return 0
    known: dict[tuple[str, UUID], tuple[int, int]] = {
        (row.sku, row.location_id): (int(row.low), int(row.close))
        for row in conn.execute(
            select(_sd.sku, _sd.location_id, _sd.low, _sd.close).where(
                _sd.tenant_id == tenant_id, _sd.day == day
            )
        )
    }
    fresh: list[dict[str, Any]] = []
    updated = 0
    for (sku, location_id), (low, close) in samples.items():
        seen = known.get((sku, location_id))
        if seen is not None:
            low = min(low, seen[0])
            if (low, close) == seen:  # out all along, say: nothing to write
                continue
            conn.execute(
                update(stock_days)
                .where(
                    _sd.tenant_id == tenant_id,
                    _sd.sku == sku,
                    _sd.location_id == location_id,
                    _sd.day == day,
                )
                .values(low=low, close=close, updated_at=at)
            )
            updated += 1
        else:
            fresh.append(
                {
                    "tenant_id": tenant_id,
                    "sku": sku,
                    "location_id": location_id,
                    "day": day,
                    "low": low,
                    "close": close,
                    "updated_at": at,
                }
            )
    if fresh:
        conn.execute(insert(stock_days), fresh)
    return updated + len(fresh)


def flag_stockouts(conn: Connection, tenant_id: UUID, since: date) -> int:
    """Judge again every sampled day out of the tenant from ``since`` on (its ``stockout``
    flag: ``oms.domain.stockouts.judge_days_out``), from the flag of the day before and the
    ``routed`` rollups; answers the rows whose flag changed. Called after the samples and
    the rollups of a refresh or rebuild, with ``since`` the first day either touched."""
    _f = analytics_facts.c
    out: dict[tuple[str, UUID], dict[date, bool]] = defaultdict(dict)
    for row in conn.execute(
        select(_sd.sku, _sd.location_id, _sd.day, _sd.stockout).where(
            _sd.tenant_id == tenant_id, _sd.low <= 0, _sd.day >= since - timedelta(days=1)
        )
    ):
        out[(row.sku, row.location_id)][_as_date(row.day)] = bool(row.stockout)
    sold: dict[tuple[str, UUID], list[date]] = defaultdict(list)
    if out:
        for fact in conn.execute(
            select(_f.sku, _f.location_id, _f.day)
            .where(
                _f.tenant_id == tenant_id,
                _f.kind == "routed",
                _f.day >= since - timedelta(days=DEMAND_WINDOW),
                _f.sku.in_(sorted({sku for sku, _ in out})),
            )
            .group_by(_f.sku, _f.location_id, _f.day)
            .having(func.sum(_f.n) > 0)
        ):
            sold[(fact.sku, fact.location_id)].append(_as_date(fact.day))
    changes: list[dict[str, Any]] = []
    for key, days in out.items():
        judged = sorted(day for day in days if day >= since)
        if not judged:
            continue
        # The day before the first judged: a day out before ``since`` (its flag kept), or
        # not out (no row out between ``since`` and it).
        eve = days.get(judged[0] - timedelta(days=1))
        found = judge_days_out(judged, sorted(sold.get(key, ())), before=eve)
        changes.extend(
            {"k_sku": key[0], "k_location": key[1], "k_day": day, "flag": day in found}
            for day in judged
            if days[day] != (day in found)
        )
    # A day whose lowest rose above 0 (never, by the sampling) would keep a stale flag.
    stale = conn.execute(
        update(stock_days)
        .where(_sd.tenant_id == tenant_id, _sd.day >= since, _sd.stockout, _sd.low > 0)
        .values(stockout=False)
    ).rowcount
    if changes:
        conn.execute(
            update(stock_days)
            .where(
                and_(
                    _sd.tenant_id == tenant_id,
                    _sd.sku == bindparam("k_sku"),
                    _sd.location_id == bindparam("k_location"),
                    _sd.day == bindparam("k_day"),
                )
            )
            .values(stockout=bindparam("flag")),
            changes,
        )
    return len(changes) + (stale or 0)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
