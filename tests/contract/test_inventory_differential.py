"""The in-memory inventory and the SQL one, driven through the same random sequence of
reservations, releases, take-outs, compare-and-sets and receipts: after every step both
answered the same and hold the same levels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.conftest import T0, add_tenant, stocked

SKUS = ("A", "B")
_step = st.tuples(
    st.sampled_from(["reserve", "release", "take_out", "set", "receive"]),
    st.sampled_from(SKUS),
    st.integers(0, 1),  # which location
    st.integers(0, 9),
    st.integers(0, 3),  # safety stock, for "set"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_factory(request: pytest.FixtureRequest) -> SqlUnitOfWorkFactory:
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    return SqlUnitOfWorkFactory(engine)


def _apply(uow: UnitOfWork, tenant_id: Any, step: tuple[str, str, Any, int, int]) -> object:
    action, sku, place, n, safety = step
    at = T0 + timedelta(minutes=1)
    inventory = uow.inventory
    if action == "reserve":
        return inventory.try_reserve(tenant_id, sku, place, n, at)
    if action == "release":
        inventory.release(tenant_id, sku, place, n, at)
        return None
    if action == "take_out":
        return inventory.take_out(tenant_id, sku, place, n, at)
    if action == "receive":
        return inventory.add_on_hand(tenant_id, place, {sku: n}, at)
    (level,) = inventory.levels(tenant_id, [sku], [place])
    on_hand = max(level.reserved, level.on_hand + n - 4)
    return inventory.compare_and_set(tenant_id, level, on_hand=on_hand, safety_stock=safety, at=at)


def _outcome(factory: UnitOfWorkFactory, run: Callable[[UnitOfWork], object]) -> object:
    try:
        with factory() as uow:
            answer = run(uow)
            uow.commit()
            return answer
    except RuntimeError:
        return "refused"


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_step, min_size=1, max_size=15))
def test_memory_and_sql_inventories_answer_alike(
    sql_factory: SqlUnitOfWorkFactory, steps: list[tuple[str, str, int, int, int]]
) -> None:
    memory = MemoryUnitOfWorkFactory()
    worlds = []
    for factory in (memory, sql_factory):
        tenant_id = add_tenant(factory)
        worlds.append((factory, tenant_id, stocked(factory, tenant_id, list(SKUS), ["L1", "L2"])))
    for action, sku, which, n, safety in steps:
        answers, levels = [], []
        for factory, tenant_id, places in worlds:
            step = (action, sku, places[which], n, safety)
            answers.append(_outcome(factory, lambda uow, s=step, t=tenant_id: _apply(uow, t, s)))
            with factory(readonly=True) as uow:
                found = uow.inventory.levels(tenant_id, SKUS)
                order = {place: i for i, place in enumerate(places)}
                levels.append(
                    sorted(
                        (lv.sku, order[lv.location_id], lv.on_hand, lv.reserved, lv.safety_stock)
                        for lv in found
                    )
                )
        assert answers[0] == answers[1], (action, sku, which, n)
        assert levels[0] == levels[1]
