"""Storage in SQL equals the domain's rule: the repository's one statement
(``SqlBillingRepository.storage_usage``: running sums, ``LEAD`` and a running ``MAX`` over
windows) gives every location the unit-days and bin-days ``oms.domain.billing.storage_usage``
gives for the same movements (random ones: before, in and after the month, negative stock,
SKUs sharing a bin or without one), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from oms.adapters.db.tables import inventory_movements, product_bins
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.billing import storage_usage
from oms.domain.ids import new_id
from oms.services.tenants import create_tenant
from tests.builders import add_location, add_product

START = datetime(2031, 3, 1, tzinfo=UTC)
DAYS = 10
SKUS = ("A", "B", "C")

moves = st.lists(
    st.tuples(
        st.sampled_from(SKUS),
        st.integers(min_value=0, max_value=1),  # which location
        st.integers(min_value=-3 * 24, max_value=(DAYS + 2) * 24 - 1),  # hour from the start
        st.integers(min_value=-20, max_value=40),
    ),
    max_size=40,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves, shared=st.booleans())
def test_storage_in_sql_equals_the_domain_rule(
    uow_factory: SqlUnitOfWorkFactory, moves: list[tuple[str, int, int, int]], shared: bool
) -> None:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="storage")
    where = [add_location(uow_factory, tenant.id, f"L{n}").id for n in range(2)]
    for sku in SKUS:
        add_product(uow_factory, tenant.id, sku)
    bins = {("A", where[0]): "BIN-1", ("B", where[0]): "BIN-1" if shared else "BIN-2"}
    with uow_factory.engine.begin() as conn:  # "C" has no bin: a bin of its own
        conn.execute(
            insert(product_bins),
            [
                {"tenant_id": tenant.id, "sku": s, "location_id": loc, "bin": b}
                for (s, loc), b in bins.items()
            ],
        )
        if moves:
            conn.execute(
                insert(inventory_movements),
                [
                    {
                        "tenant_id": tenant.id,
                        "id": new_id(),
                        "sku": sku,
                        "location_id": where[loc],
                        "kind": "adjustment",
                        "quantity": quantity,
                        "on_hand_after": 0,
                        "actor": "test",
                        "created_at": START + timedelta(hours=hour),
                    }
                    for sku, loc, hour, quantity in moves
                ],
            )
    calendar = [(START + timedelta(days=n)).date() for n in range(DAYS)]
    opening: dict[tuple[str, UUID], int] = defaultdict(int)
    deltas: dict[tuple[str, UUID, date], int] = defaultdict(int)
    for sku, loc, hour, quantity in moves:
        at = START + timedelta(hours=hour)
        if at < START:
            opening[(sku, where[loc])] += quantity
        elif at.date() in calendar:
            deltas[(sku, where[loc], at.date())] += quantity
    expected = storage_usage(days=calendar, opening=opening, deltas=deltas, bins=bins)

    with uow_factory(readonly=True) as uow:
        found = uow.billing.storage_usage(tenant.id, where, START, DAYS)

    assert {loc: v for loc, v in found.items() if v != (0, 0)} == {
        loc: v for loc, v in expected.items() if v != (0, 0)
    }
