"""Customers, matched per tenant by normalised email."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Executable, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import customers
from oms.domain.ids import new_id
from oms.services.ports import CustomerRecord, CustomerTally

__all__ = ["SqlCustomerRepository"]

_c = customers.c


@cache
def _count_order(dialect_name: str) -> Executable:
    """Insert the customer with one order, or count one more: one statement, built once."""
    new = sqlite.insert(customers) if dialect_name == "sqlite" else postgresql.insert(customers)
    statement: Executable = _counted(new).returning(*customers.c)
    return statement


def _counted(new: Any) -> Any:
    """``new`` (rows of customers, ``orders_count`` the orders to count), or, for a
    customer already stored, its orders counted on top: the latest name and phone given
    win, the first order's time stays."""
    return new.on_conflict_do_update(
        index_elements=[_c.tenant_id, _c.email],
        set_={
            "orders_count": _c.orders_count + new.excluded.orders_count,
            "first_order_at": func.coalesce(_c.first_order_at, new.excluded.first_order_at),
            "last_order_at": new.excluded.last_order_at,
            "name": func.coalesce(new.excluded.name, _c.name),
            "phone": func.coalesce(new.excluded.phone, _c.phone),
        },
    )


# Every intake with an email runs it: on PostgreSQL through psycopg (oms.adapters.db.driver),
# its values bound by name.
_COUNT_ORDER = DriverStatement(
    _count_order("postgresql").values(  # type: ignore[attr-defined]
        {c.name: bindparam(c.name, type_=c.type) for c in customers.c}
    ),
    portable=_count_order("sqlite"),
)


# record_orders on PostgreSQL: one statement whatever the number of customers (arrays).
_COUNT_ORDERS = DriverStatement("""
INSERT INTO customers AS c (
    tenant_id, id, email, name, phone, orders_count, first_order_at, last_order_at, created_at
)
SELECT %(tenant_id)s, t.id, t.email, t.name, t.phone, t.orders, t.first_at, t.last_at, t.first_at
FROM unnest(
    CAST(%(ids)s AS UUID[]), CAST(%(emails)s AS VARCHAR[]), CAST(%(names)s AS VARCHAR[]),
    CAST(%(phones)s AS VARCHAR[]), CAST(%(orders)s AS INTEGER[]),
    CAST(%(firsts)s AS TIMESTAMPTZ[]), CAST(%(lasts)s AS TIMESTAMPTZ[])
) AS t(id, email, name, phone, orders, first_at, last_at)
ORDER BY t.email
ON CONFLICT (tenant_id, email) DO UPDATE SET
    orders_count = c.orders_count + excluded.orders_count,
    first_order_at = COALESCE(c.first_order_at, excluded.first_order_at),
    last_order_at = excluded.last_order_at,
    name = COALESCE(excluded.name, c.name),
    phone = COALESCE(excluded.phone, c.phone)
RETURNING c.email, c.id
""")
# One probe of the unique index per email, whatever the planner believes of the table's
# size (a plain ``= ANY``, or the join without its LIMIT, was planned on a table never
# analysed as a scan of all the tenant's customers).
_BY_EMAILS = DriverStatement(
    """
SELECT c.* FROM unnest(CAST(%(p_emails)s AS VARCHAR[])) AS k(email)
CROSS JOIN LATERAL (
    SELECT * FROM customers WHERE tenant_id = %(p_tenant_id)s AND email = k.email LIMIT 1
) c
""",
    portable=select(customers).where(
        _c.tenant_id == bindparam("p_tenant_id", type_=_c.tenant_id.type),
        _c.email.in_(bindparam("p_emails", expanding=True, type_=_c.email.type)),
    ),
)


def _count_orders_portable(tallies: Sequence[CustomerTally], tenant_id: UUID) -> Executable:
    rows = [
        {
            "tenant_id": tenant_id,
            "id": t.id,
            "email": t.email,
            "name": t.name,
            "phone": t.phone,
            "orders_count": t.orders,
            "first_order_at": t.first_order_at,
            "last_order_at": t.last_order_at,
            "created_at": t.first_order_at,
        }
        for t in tallies
    ]
    statement: Executable = _counted(sqlite.insert(customers).values(rows)).returning(
        _c.email, _c.id
    )
    return statement


def _record(row: Any) -> CustomerRecord:
    return CustomerRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        phone=row.phone,
        orders_count=row.orders_count,
        first_order_at=row.first_order_at,
        last_order_at=row.last_order_at,
        created_at=row.created_at,
    )


class SqlCustomerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record_order(
        self, tenant_id: UUID, *, email: str, name: str | None, phone: str | None, at: datetime
    ) -> CustomerRecord:
        """Count one more order for the customer with ``email`` (created on first sight).

        Returns the customer as it was *before* this order, so ``orders_count == 0`` means
        a new customer.
        """
        params = {
            "tenant_id": tenant_id,
            "id": new_id(),
            "email": email,
            "name": name,
            "phone": phone,
            "orders_count": 1,
            "first_order_at": at,
            "last_order_at": at,
            "created_at": at,
        }
        after = _record(_COUNT_ORDER.one(self._conn, params))
        return CustomerRecord(
            id=after.id,
            email=after.email,
            name=after.name,
            phone=after.phone,
            orders_count=after.orders_count - 1,
            first_order_at=after.first_order_at if after.orders_count > 1 else None,
            last_order_at=after.last_order_at,
            created_at=after.created_at,
        )

    def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> dict[str, CustomerRecord]:
        """The customers with these (normalised) emails that exist, by email."""
        wanted = sorted(set(emails))
        if not wanted:
            return {}
        rows = _BY_EMAILS.rows(self._conn, {"p_tenant_id": tenant_id, "p_emails": wanted})
        return {row.email: _record(row) for row in rows}

    def record_orders(self, tenant_id: UUID, tallies: Sequence[CustomerTally]) -> dict[str, UUID]:
        """``record_order`` for several customers at once, each ``tally.orders`` times, as
        if called once per order in turn: the id of each customer, by email.

        A customer already stored keeps its id whatever ``tally.id`` says: a caller that
        expected a new one learns so from the answer. Rows are written in email order.
        """
        ordered = sorted(tallies, key=lambda t: t.email)
        if not ordered:
            return {}
        if self._conn.dialect.name != "postgresql":
            rows: Iterable[Any] = self._conn.execute(_count_orders_portable(ordered, tenant_id))
            return {row.email: row.id for row in rows}
        params = {
            "tenant_id": tenant_id,
            "ids": [t.id for t in ordered],
            "emails": [t.email for t in ordered],
            "names": [t.name for t in ordered],
            "phones": [t.phone for t in ordered],
            "orders": [t.orders for t in ordered],
            "firsts": [t.first_order_at for t in ordered],
            "lasts": [t.last_order_at for t in ordered],
        }
        rows = _COUNT_ORDERS.rows(self._conn, params)
        return {row.email: row.id for row in rows}

    def get(self, tenant_id: UUID, customer_id: UUID) -> CustomerRecord | None:
        row = self._conn.execute(
            select(customers).where(_c.tenant_id == tenant_id, _c.id == customer_id)
        ).first()
        return None if row is None else _record(row)

    def page(
        self, tenant_id: UUID, *, email: str | None, after_id: UUID | None, limit: int
    ) -> list[CustomerRecord]:
        query = select(customers).where(_c.tenant_id == tenant_id)
        if email is not None:
            query = query.where(_c.email == email)
        if after_id is not None:
            query = query.where(_c.id > after_id)
        return [_record(row) for row in self._conn.execute(query.order_by(_c.id).limit(limit))]
