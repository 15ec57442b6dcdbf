"""Discount codes and their usage counters.

Redeeming a code is, like reserving stock, one conditional UPDATE per limit: the total count
``WHERE times_used < usage_limit`` and the customer's count ``WHERE uses < per_customer_limit``.
Under concurrency exactly as many redemptions succeed as the limits allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, or_, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import discount_codes, discount_usages
from oms.domain.pricing import DiscountCode, DiscountKind

__all__ = ["SqlDiscountRepository"]

_d = discount_codes.c
_u = discount_usages.c


def _code(row: Row[Any]) -> DiscountCode:
    return DiscountCode(
        id=row.id,
        code=row.code,
        kind=DiscountKind(row.kind),
        value=row.value,
        currency=row.currency,
        min_subtotal=row.min_subtotal,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        usage_limit=row.usage_limit,
        per_customer_limit=row.per_customer_limit,
        times_used=row.times_used,
        active=row.active,
    )


class SqlDiscountRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, tenant_id: UUID, code: DiscountCode, at: datetime) -> bool:
        return insert_if_absent(
            self._conn,
            discount_codes,
            {
                "tenant_id": tenant_id,
                "id": code.id,
                "code": code.code,
                "kind": code.kind.value,
                "value": code.value,
                "currency": code.currency,
                "min_subtotal": code.min_subtotal,
                "starts_at": code.starts_at,
                "ends_at": code.ends_at,
                "usage_limit": code.usage_limit,
                "per_customer_limit": code.per_customer_limit,
                "times_used": code.times_used,
                "active": code.active,
                "created_at": at,
            },
        )

    def get(self, tenant_id: UUID, code_id: UUID) -> DiscountCode | None:
        row = self._conn.execute(
            select(discount_codes).where(_d.tenant_id == tenant_id, _d.id == code_id)
        ).first()
        return None if row is None else _code(row)

    def by_codes(self, tenant_id: UUID, codes: Iterable[str]) -> dict[str, DiscountCode]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self._conn.execute(
            select(discount_codes).where(_d.tenant_id == tenant_id, _d.code.in_(wanted))
        )
        return {row.code: _code(row) for row in rows}

    def page(self, tenant_id: UUID, *, after_code: str | None, limit: int) -> list[DiscountCode]:
        query = select(discount_codes).where(_d.tenant_id == tenant_id)
        if after_code is not None:
            query = query.where(_d.code > after_code)
        return [_code(r) for r in self._conn.execute(query.order_by(_d.code).limit(limit))]

    def redeem(
        self, tenant_id: UUID, code: DiscountCode, *, customer_email: str | None
    ) -> str | None:
        """Count one use; the reason it cannot be used, or None when counted."""
        total = self._conn.execute(
            update(discount_codes)
            .where(
                _d.tenant_id == tenant_id,
                _d.id == code.id,
                or_(_d.usage_limit.is_(None), _d.times_used < _d.usage_limit),
            )
            .values(times_used=_d.times_used + 1)
            .returning(_d.id)
        ).first()
        if total is None:
            return "used up"
        if code.per_customer_limit is None:
            return None
        if customer_email is None:
            return "limited per customer, and the order has no customer email"
        insert_if_absent(
            self._conn,
            discount_usages,
            {
                "tenant_id": tenant_id,
                "code_id": code.id,
                "customer_email": customer_email,
                "uses": 0,
            },
        )
        mine = self._conn.execute(
            update(discount_usages)
            .where(
                _u.tenant_id == tenant_id,
                _u.code_id == code.id,
                _u.customer_email == customer_email,
                _u.uses < code.per_customer_limit,
            )
            .values(uses=_u.uses + 1)
            .returning(_u.uses)
        ).first()
        return None if mine is not None else "already used by this customer"
