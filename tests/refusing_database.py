"""A unit of work whose database refuses to store an order whose note says "refused", as
a value too long for its column would: for the intake group's fall-back tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from oms.adapters.db.uow import SqlUnitOfWork
from oms.domain.orders import Order

REFUSAL = DataError("INSERT INTO orders ...", {}, Exception("value too long"))


class RefusingUnitOfWork(SqlUnitOfWork):
    """Its database refuses to store an order whose note is "refused"."""

    def __enter__(self) -> Self:
        inside = super().__enter__()
        add, add_all = inside.orders.add, inside.orders.add_all

        def refusing_add(order: Order, **kwargs: Any) -> bool:
            if order.note == "refused":
                raise REFUSAL
            return add(order, **kwargs)

        def refusing_add_all(entries: Sequence[tuple[Order, Any]]) -> bool:
            if any(order.note == "refused" for order, _ in entries):
                raise REFUSAL
            return add_all(entries)

        inside.orders.add = refusing_add  # type: ignore[method-assign]
        inside.orders.add_all = refusing_add_all  # type: ignore[method-assign]
        return inside


def refusing_uow_factory(engine: Engine) -> Callable[..., SqlUnitOfWork]:
    """A unit-of-work factory over ``engine`` whose units of work refuse "refused" orders."""

    def refusing(*, readonly: bool = False) -> SqlUnitOfWork:
        return RefusingUnitOfWork(engine, readonly=readonly)

    return refusing
