"""The portal's order search (``OrderRepository.search``): one statement over ``orders``
with an EXISTS per related table a filter names, newest first by id (ids grow with time).

The text is tried as each thing a person may paste: an order number (digits, an optional
``#``), an external id, an email, a tracking number (exact matches, which the keys and
indexes serve) and a part of the customer's name (``ILIKE '%text%'``, case aside).

Every alternative of that OR is one an index can answer, so PostgreSQL may combine them
(a BitmapOr) instead of reading the tenant's orders newest first until enough match: the
number, external id (migration 0021) and email by their b-tree indexes, the name by a
trigram GIN index (``pg_trgm``, migration 0021), and the tracking number by the ids of
the orders it names, looked up first (``tracked_statement``, through the
``tracking_numbers`` reference table), since an EXISTS inside an OR is no index condition.
SQLite has no trigram index: the same statement (there ``lower(name) LIKE lower(text)``)
reads the tenant's orders newest first, with the same answers as before; as before,
SQLite's ``lower`` folds ASCII letters only, so "ÄNNE" finds "Änne" on PostgreSQL alone.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Select, or_, select

from oms.adapters.db.tables import allocations, order_holds, orders, shipments, tracking_numbers
from oms.services.ports import OrderSearch

__all__ = ["search_statement", "tracked_statement"]

_o = orders.c


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def tracked_statement(tenant_id: UUID | None, text: str) -> Select[Any] | None:
    """The ids of the orders whose shipments carry ``text`` as tracking number (None when
    the search has no text)."""
    text = text.strip()
    if not text:
        return None
    sh, tn = shipments.c, tracking_numbers.c
    query = (
        select(sh.order_id)
        .join(tracking_numbers, (tn.tenant_id == sh.tenant_id) & (tn.shipment_id == sh.id))
        .where(tn.tracking_number == text.upper())
    )
    if tenant_id is not None:
        query = query.where(tn.tenant_id == tenant_id)
    return query


def _text_match(text: str, tracked: Collection[UUID]) -> Any:
    number = text.removeprefix("#").strip()
    matches = [
        _o.external_id == text,
        _o.customer_email == text.lower(),
        _o.customer_name.ilike(_like_pattern(text), escape="\\"),
    ]
    if tracked:
        matches.append(_o.id.in_(sorted(tracked)))
    if number.isdigit() and len(number) < 19:
        matches.append(_o.number == int(number))
    return or_(*matches)


def search_statement(
    tenant_id: UUID | None,
    search: OrderSearch,
    before_id: UUID | None,
    limit: int,
    tracked: Collection[UUID] = (),
) -> Select[Any]:
    """The SELECT of ``orders`` rows matching ``search`` (every tenant's when None);
    ``tracked``: the orders ``tracked_statement`` found for the search text."""
    query = select(orders)
    if tenant_id is not None:
        query = query.where(_o.tenant_id == tenant_id)
    text = (search.text or "").strip()
    if text:
        query = query.where(_text_match(text, tracked))
    for column, value in (
        (_o.status, search.status),
        (_o.fulfillment_status, search.fulfillment_status),
        (_o.payment_status, search.payment_status),
        (_o.channel, search.channel),
    ):
        if value:
            query = query.where(column == value)
    if search.created_from is not None:
        query = query.where(_o.created_at >= search.created_from)
    if search.created_to is not None:
        query = query.where(_o.created_at < search.created_to)
    if search.location_id is not None:
        al = allocations.c
        query = query.where(
            select(al.id)
            .where(
                al.tenant_id == _o.tenant_id,
                al.order_id == _o.id,
                al.location_id == search.location_id,
            )
            .exists()
        )
    if search.hold_reason:
        h = order_holds.c
        query = query.where(
            select(h.id)
            .where(
                h.tenant_id == _o.tenant_id,
                h.order_id == _o.id,
                h.reason == search.hold_reason,
                h.released_at.is_(None),
            )
            .exists()
        )
    if before_id is not None:
        query = query.where(_o.id < before_id)
    return query.order_by(_o.id.desc()).limit(limit)
