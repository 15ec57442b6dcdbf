"""Group commit of order intake (``oms.services.intake_group``), on both databases.

The rule under test: a group places every order exactly as placing them alone, one after
the other, would have; what the group cannot answer goes alone; and races between groups
(and with orders placed alone) can neither oversell nor duplicate an order.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from threading import Barrier
from typing import Any, Self
from uuid import UUID

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Environment, Settings
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InsufficientStock, InvalidRequest
from oms.domain.orders import Order
from oms.domain.risk import RiskRuleKind
from oms.services import intake, intake_group
from oms.services.checks import find_invariant_violations
from oms.services.intake import PlacedOrder
from oms.services.intake_group import Submission, place_group
from oms.services.inventory import get_stock
from oms.services.orders import get_order
from oms.services.risk import create_risk_rule
from oms.services.tenants import create_tenant
from tests.builders import (
    PAID,
    SHIP_TO,
    TESTER,
    add_location,
    add_product,
    order_of,
    place,
    set_stock,
)
from tests.refusing_database import refusing_uow_factory

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""

AUTHORIZED = intake.ChannelPayment(gateway="manual")  # a channel's hold, reported
CARD = intake.ChannelPayment(gateway="test", token="tok_approve")  # a processor's call
SKUS = ("RED", "BLUE", "GREEN", "KIT")  # KIT: a bundle of one RED and two BLUE


@pytest.fixture(autouse=True)
def _no_fault_in_the_group_path(caplog: pytest.LogCaptureFixture) -> Any:
    """A fault inside the group is logged and the order goes alone, where it would pass
    unseen: every test here fails on one."""
    yield
    faults = [
        r for r in caplog.records if r.name == intake_group.__name__ and r.levelno >= logging.ERROR
    ]
    assert faults == []


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> list[Submission]:
    """The submissions placed alone rather than in the group."""
    calls: list[Submission] = []
    real = intake_group.place_alone

    def spy(uow_factory: Any, gateways: Any, geocoder: Any, submission: Submission) -> Any:
        calls.append(submission)
        return real(uow_factory, gateways, geocoder, submission)

    monkeypatch.setattr(intake_group, "place_alone", spy)
    return calls


def _world(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, stock: dict[str, int]) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_location(uow_factory, tenant_id, "B", priority=200)
    for sku in ("RED", "BLUE", "GREEN"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", stock.get(sku, 0))
        set_stock(uow_factory, tenant_id, sku, "B", stock.get(sku, 0) // 2)
    add_product(
        uow_factory, tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"RED": 1, "BLUE": 2}
    )


def _new_tenant(uow_factory: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="group tenant")
    return tenant.id


def _submit(tenant_id: UUID, command: intake.PlaceOrder, key: str | None = None) -> Submission:
    return Submission(
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        at=AT,
        idempotency_key=key,
        fingerprint="f" if key else "",
    )


def _group(
    uow_factory: SqlUnitOfWorkFactory, submissions: Sequence[Submission]
) -> list[PlacedOrder | Exception]:
    return place_group(
        uow_factory=uow_factory, gateways=gateway_named, geocoder=None, submissions=submissions
    )


def _view(order: Order) -> dict[str, Any]:
    """What an order is, without its ids and times."""
    return {
        "status": order.status,
        "payment": order.payment_status,
        "fulfilment": order.fulfillment_status,
        "lines": [(li.sku, li.quantity, li.allocated, li.backordered) for li in order.lines],
        "allocations": sorted((a.sku, a.location_code, a.quantity) for a in order.allocations),
        "holds": sorted(h.reason.value for h in order.holds if h.released_at is None),
        "risk": order.risk,
        "customer": order.customer.email,
        "events": [e.type for e in order.events],
        "payments": [(p.kind, p.amount, p.outcome, p.gateway) for p in order.payments],
    }


def _fulfilment(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> list[Any]:
    """The order's fulfilment orders as stored, without ids and times."""
    with uow_factory() as uow:
        found = uow.fulfilment.for_order(tenant_id, order_id)
    return sorted(
        (fo.location_code, fo.status, sorted((ln.sku, ln.quantity) for ln in fo.lines))
        for fo in found
    )


def _stock(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> dict[str, tuple[int, int]]:
    found = {}
    for sku in ("RED", "BLUE", "GREEN"):
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        found[sku] = (stock.reserved, stock.available)
    return found


def _clean(uow_factory: SqlUnitOfWorkFactory, *tenants: UUID) -> None:
    broken = [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id in tenants
    ]
    assert broken == []


_line = st.tuples(st.sampled_from(SKUS), st.integers(1, 4))
_order = st.fixed_dictionaries(
    {
        "lines": st.lists(_line, min_size=1, max_size=3),  # a SKU may repeat (KIT holds RED)
        "backorder": st.booleans(),
        "email": st.sampled_from(["ann@example.com", "Bob@Example.com", "cy@example.com", None]),
        "external": st.sampled_from([None, "x1", "x2"]),
        # A channel's reported payment (``manual`` records only: grouped, released at once
        # when clean) or a card's (``test`` calls out: placed alone).
        "payment": st.sampled_from([None, PAID, AUTHORIZED, CARD]),
    }
)


@settings(
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking here takes minutes
)
@given(
    orders=st.lists(_order, min_size=2, max_size=8),
    stock=st.fixed_dictionaries({s: st.integers(0, 8) for s in ("RED", "BLUE", "GREEN")}),
)
def test_a_group_places_orders_as_placing_them_one_by_one_would(
    uow_factory: SqlUnitOfWorkFactory,
    alone: list[Submission],
    orders: list[dict[str, Any]],
    stock: dict[str, int],
) -> None:
    """One by one in the group's order: those it kept first, then those it sent alone
    (concurrent requests may be served in any order; this is the one the group chose)."""
    one_by_one, grouped = _new_tenant(uow_factory), _new_tenant(uow_factory)
    commands = [
        order_of(
            *o["lines"],
            allow_backorder=o["backorder"],
            email=o["email"],
            external_id=o["external"],
            payment=o["payment"],
        )
        for o in orders
    ]
    for tenant_id in (one_by_one, grouped):
        _world(uow_factory, tenant_id, stock)
    alone.clear()
    submissions = [_submit(grouped, c) for c in commands]

    outcomes = _group(uow_factory, submissions)

    sent_alone = [submissions.index(s) for s in alone]
    kept = [i for i in range(len(commands)) if i not in sent_alone]
    expected: dict[int, Any] = {}
    for i in kept + sent_alone:
        try:
            placed = place(uow_factory, one_by_one, commands[i])
        except (InsufficientStock, InvalidRequest) as error:
            expected[i] = type(error).__name__
        else:
            fulfilment = _fulfilment(uow_factory, one_by_one, placed.order.id)
            expected[i] = (placed.created, placed.order.number, (_view(placed.order), fulfilment))
    # Only orders refused for want of stock (decided again alone) and later copies of an
    # external id leave the group.
    copies = sum(
        1
        for i, c in enumerate(commands)
        if c.external_id and c.external_id in {d.external_id for d in commands[:i]}
    )
    refused = sum(1 for e in expected.values() if e == "InsufficientStock")
    cards = sum(1 for c in commands if c.payment is CARD)
    lone = 1 if len(commands) - cards == 1 else 0  # a group of one is placed alone
    assert len(sent_alone) <= refused + copies + cards + lone
    got: dict[int, Any] = {}
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, Exception):
            got[i] = type(outcome).__name__
        else:
            stored = get_order(
                uow_factory=uow_factory, tenant_id=grouped, order_id=outcome.order.id
            )
            assert _view(stored) == _view(outcome.order)
            fulfilment = _fulfilment(uow_factory, grouped, stored.id)
            got[i] = (outcome.created, outcome.order.number, (_view(stored), fulfilment))
    # Numbers: unique and rising in the group's order, perhaps with gaps (numbers the
    # group drew for orders that then went alone are not used).
    numbers = [got[i][1] for i in kept + sent_alone if isinstance(got[i], tuple) and got[i][0]]
    assert numbers == sorted(set(numbers))
    strip = {i: (e[0], e[2]) if isinstance(e, tuple) else e for i, e in expected.items()}
    assert {i: (g[0], g[2]) if isinstance(g, tuple) else g for i, g in got.items()} == strip
    assert _stock(uow_factory, grouped) == _stock(uow_factory, one_by_one)
    _clean(uow_factory, one_by_one, grouped)


def test_orders_the_group_cannot_answer_are_placed_alone_in_the_same_call(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, alone: list[Submission]
) -> None:
    _world(uow_factory, tenant_id, {"RED": 10, "BLUE": 10})
    submissions = [
        _submit(tenant_id, order_of(("RED", 1), payment=None, external_id="plain")),
        _submit(tenant_id, order_of(("RED", 1), payment=CARD)),  # a gateway that calls out
        _submit(tenant_id, order_of(("BLUE", 1), payment=None), key="key-1"),  # a key
        _submit(tenant_id, order_of(("NOPE", 1), payment=None)),  # invalid
        _submit(tenant_id, order_of(("BLUE", 50), payment=None, allow_backorder=False)),
        _submit(tenant_id, order_of(("BLUE", 2), payment=None, external_id="plain")),  # copy
    ]

    outcomes = _group(uow_factory, submissions)

    first, paid, keyed, invalid, short, copy = outcomes
    assert alone == [submissions[i] for i in (1, 2, 4, 5)]
    assert isinstance(first, PlacedOrder)
    assert first.created
    assert isinstance(paid, PlacedOrder)
    assert paid.created
    assert paid.order.payment_status == "authorized"
    assert isinstance(keyed, PlacedOrder)
    assert keyed.created
    assert isinstance(invalid, InvalidRequest)
    assert isinstance(short, InsufficientStock)
    assert isinstance(copy, PlacedOrder)
    assert not copy.created
    assert copy.order.id == first.order.id
    numbers = sorted(o.order.number for o in (first, paid, keyed) if isinstance(o, PlacedOrder))
    assert len(set(numbers)) == 3
    # The keyed order answers its key again, placed alone or not.
    again = place(uow_factory, tenant_id, order_of(("BLUE", 1), payment=None), key="key-1")
    assert not again.created
    assert again.order.id == keyed.order.id
    assert _stock(uow_factory, tenant_id)["RED"][0] == 2
    assert _stock(uow_factory, tenant_id)["BLUE"][0] == 1
    _clean(uow_factory, tenant_id)


def test_an_external_id_stored_before_the_group_returns_that_order(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    _world(uow_factory, tenant_id, {"RED": 5})
    earlier = place(uow_factory, tenant_id, order_of(("RED", 1), external_id="e1", payment=None))

    outcomes = _group(
        uow_factory, [_submit(tenant_id, order_of(("RED", 3), external_id="e1", payment=None))]
    )

    assert isinstance(outcomes[0], PlacedOrder)
    assert not outcomes[0].created
    assert outcomes[0].order.id == earlier.order.id
    assert _stock(uow_factory, tenant_id)["RED"][0] == 1


@pytest.mark.postgres
def test_a_group_the_database_moved_under_is_placed_alone_and_never_oversells(
    postgres_engine: Engine,
) -> None:
    """Between the group's read and its write another transaction takes the stock: the
    group's conditional reservation fails, it rolls back, and each order goes alone.
    (PostgreSQL only: on SQLite a write transaction holds the one write lock from its start.)
    """
    uow_factory = SqlUnitOfWorkFactory(postgres_engine)
    tenant_id = _new_tenant(uow_factory)
    _world(uow_factory, tenant_id, {"GREEN": 4})
    set_stock(uow_factory, tenant_id, "GREEN", "B", 0)
    meddled: list[PlacedOrder] = []

    class MeddledUnitOfWork(SqlUnitOfWork):
        def __enter__(self) -> Self:
            inside = super().__enter__()
            reserve = inside.inventory.try_reserve_each

            def meddle(*args: Any) -> Any:
                meddled.append(place(uow_factory, tenant_id, order_of(("GREEN", 3), payment=None)))
                return reserve(*args)

            inside.inventory.try_reserve_each = meddle  # type: ignore[method-assign]
            return inside

    class Meddling:
        """Its first unit of work lets another order take 3 of the 4 units just before
        the group reserves."""

        def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
            if meddled or readonly:
                return uow_factory(readonly=readonly)
            return MeddledUnitOfWork(postgres_engine)

    outcomes = place_group(
        uow_factory=Meddling(),
        gateways=gateway_named,
        geocoder=None,
        submissions=[
            _submit(tenant_id, order_of(("GREEN", 2), payment=None, allow_backorder=False)),
            _submit(tenant_id, order_of(("GREEN", 1), payment=None, allow_backorder=False)),
        ],
    )

    assert meddled[0].order.lines[0].allocated == 3
    first, second = outcomes
    assert isinstance(first, InsufficientStock)
    assert isinstance(second, PlacedOrder)
    assert second.order.lines[0].allocated == 1
    assert _stock(uow_factory, tenant_id)["GREEN"] == (4, 0)
    _clean(uow_factory, tenant_id)


RACERS = 10
PER_GROUP = 5
LAST_UNITS = 7


def _rounds(request: pytest.FixtureRequest) -> int:
    return 20 if "postgres" in request.node.callspec.id else 3


def test_groups_racing_for_the_last_seven_units_take_exactly_seven(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, request: pytest.FixtureRequest
) -> None:
    """50 orders for one unit each, in 10 concurrent groups of 5: 7 placed, 43 refused."""
    add_location(uow_factory, tenant_id, "A")
    add_location(uow_factory, tenant_id, "B", priority=200)
    for round_no in range(_rounds(request)):
        sku = f"GLAST-{round_no}"
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 4)
        set_stock(uow_factory, tenant_id, sku, "B", 3)
        barrier = Barrier(RACERS)

        def one_group(_: int, sku: str = sku, barrier: Barrier = barrier) -> list[str]:
            command = order_of((sku, 1), payment=None, allow_backorder=False)
            submissions = [_submit(tenant_id, command) for _ in range(PER_GROUP)]
            barrier.wait()
            return [
                "placed" if isinstance(o, PlacedOrder) else type(o).__name__
                for o in _group(uow_factory, submissions)
            ]

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            outcome = Counter(x for group in pool.map(one_group, range(RACERS)) for x in group)

        assert outcome == Counter(
            {"placed": LAST_UNITS, "InsufficientStock": RACERS * PER_GROUP - LAST_UNITS}
        )
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        assert (stock.reserved, stock.available) == (LAST_UNITS, 0)
    _clean(uow_factory, tenant_id)


def test_copies_of_orders_in_concurrent_groups_make_one_order_each(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    """Ten groups carry copies of the same five external ids, in different orders."""
    _world(uow_factory, tenant_id, {"RED": 500})
    barrier = Barrier(RACERS)

    def one_group(i: int) -> list[tuple[str, UUID]]:
        names = [f"dup-{(i + k) % PER_GROUP}" for k in range(PER_GROUP)]
        submissions = [
            _submit(tenant_id, order_of(("RED", 1), external_id=name, payment=None))
            for name in names
        ]
        barrier.wait()
        found = []
        for name, outcome in zip(names, _group(uow_factory, submissions), strict=True):
            assert isinstance(outcome, PlacedOrder), outcome
            found.append((name, outcome.order.id))
        return found

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        answers = [pair for group in pool.map(one_group, range(RACERS)) for pair in group]

    ids_by_name: dict[str, set[UUID]] = {}
    for name, order_id in answers:
        ids_by_name.setdefault(name, set()).add(order_id)
    assert {name: len(ids) for name, ids in ids_by_name.items()} == {
        f"dup-{k}": 1 for k in range(PER_GROUP)
    }
    assert _stock(uow_factory, tenant_id)["RED"][0] == PER_GROUP
    _clean(uow_factory, tenant_id)


@pytest.fixture
def second_process(engine: Engine) -> Iterator[SqlUnitOfWorkFactory]:
    """Another process's view of the same database: an engine and a pool of its own."""
    url = engine.url.render_as_string(hide_password=False)
    other = build_engine(Settings(database_url=url, environment=Environment.TEST))
    yield SqlUnitOfWorkFactory(other)
    other.dispose()


@pytest.mark.parametrize(
    "where", ["one group", "two groups", "two processes", "a group and alone", "both alone"]
)
def test_two_copies_for_the_last_unit_answer_one_order_wherever_they_land(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    second_process: SqlUnitOfWorkFactory,
    request: pytest.FixtureRequest,
    where: str,
) -> None:
    """Two copies of an order for the last unit, refusing backorders: whichever loses the
    race for the stock answers the order its twin placed, never 409."""
    _world(uow_factory, tenant_id, {"GREEN": 100})
    for round_no in range(_rounds(request)):
        sku = f"ONE-LEFT-{round_no}"
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 1)
        twin = order_of(
            (sku, 1), external_id=f"twin-{round_no}", payment=None, allow_backorder=False
        )
        company = order_of(("GREEN", 1), payment=None, email=None)  # makes a group of two
        callers: list[tuple[SqlUnitOfWorkFactory, list[intake.PlaceOrder]]] = {
            "one group": [(uow_factory, [twin, company, twin])],
            "two groups": [(uow_factory, [twin, company]), (uow_factory, [company, twin])],
            "two processes": [(uow_factory, [twin, company]), (second_process, [company, twin])],
            "a group and alone": [(uow_factory, [twin, company]), (second_process, [twin])],
            "both alone": [(uow_factory, [twin]), (second_process, [twin])],
        }[where]
        barrier = Barrier(len(callers))

        def one_caller(
            caller: tuple[SqlUnitOfWorkFactory, list[intake.PlaceOrder]],
            barrier: Barrier = barrier,
        ) -> list[PlacedOrder | Exception]:
            factory, commands = caller
            submissions = [_submit(tenant_id, command) for command in commands]
            barrier.wait()
            return _group(factory, submissions)

        with ThreadPoolExecutor(max_workers=len(callers)) as pool:
            outcomes = [o for group in pool.map(one_caller, callers) for o in group]

        answers = [o for o in outcomes if not isinstance(o, PlacedOrder) or o.order.external_id]
        assert all(isinstance(a, PlacedOrder) for a in answers), answers
        placed = [a for a in answers if isinstance(a, PlacedOrder)]
        assert len({a.order.id for a in placed}) == 1
        assert sorted(a.created for a in placed) == [False, True]
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        assert (stock.reserved, stock.available) == (1, 0)
    _clean(uow_factory, tenant_id)


def test_risk_rules_see_the_group_as_one_order_after_another(
    uow_factory: SqlUnitOfWorkFactory, alone: list[Submission]
) -> None:
    """A rule on new customers is answered from the group's own count (the first order of
    a new email is new, the second is not); a rule that counts past orders in the database
    cannot be, and its orders go alone with the same outcome as one by one."""
    outcomes: dict[str, list[list[str]]] = {}
    for rule, params in (
        (RiskRuleKind.NEW_CUSTOMER_VALUE_ABOVE, {"amount": "15.00", "currency": "EUR"}),
        (RiskRuleKind.EMAIL_VELOCITY, {"max_orders": 1, "window_hours": 24}),
    ):
        seen = []
        for grouped in (False, True):
            tenant_id = _new_tenant(uow_factory)
            _world(uow_factory, tenant_id, {"RED": 20})
            create_risk_rule(uow_factory=uow_factory, tenant_id=tenant_id, kind=rule, params=params)
            commands = [order_of(("RED", 2), email="new@example.com", payment=None)] * 3
            if grouped:
                alone.clear()
                placed = _group(uow_factory, [_submit(tenant_id, c) for c in commands])
                went_alone = len(alone)
            else:
                placed = [place(uow_factory, tenant_id, c) for c in commands]
            seen.append(
                [
                    sorted(h.reason.value for h in p.order.holds)
                    for p in placed
                    if isinstance(p, PlacedOrder)
                ]
            )
        assert seen[0] == seen[1]
        outcomes[rule.value] = seen[0]
        assert went_alone == (3 if rule is RiskRuleKind.EMAIL_VELOCITY else 0)
    new_customer = outcomes[RiskRuleKind.NEW_CUSTOMER_VALUE_ABOVE.value]
    assert ["fraud_review" in holds for holds in new_customer] == [True, False, False]
    velocity = outcomes[RiskRuleKind.EMAIL_VELOCITY.value]
    assert ["fraud_review" in holds for holds in velocity] == [False, True, True]


def test_a_group_of_several_tenants_keeps_each_to_its_own(
    uow_factory: SqlUnitOfWorkFactory, alone: list[Submission]
) -> None:
    """One group (as an operator's worker may form) with two tenants using the same SKUs,
    external ids and customer email: each order lands in its own tenant, with its tenant's
    stock, numbers and customer."""
    first, second = _new_tenant(uow_factory), _new_tenant(uow_factory)
    _world(uow_factory, first, {"RED": 1})
    _world(uow_factory, second, {"RED": 5})
    submissions = [
        _submit(tenant_id, order_of(("RED", 2), external_id=name, payment=None))
        for name in ("shared-1", "shared-2")
        for tenant_id in (first, second)
    ]

    outcomes = _group(uow_factory, submissions)

    assert alone == []
    placed = [o for o in outcomes if isinstance(o, PlacedOrder)]
    assert len(placed) == 4
    assert all(p.created for p in placed)
    by_tenant: dict[UUID, list[Order]] = {}
    for p in placed:
        by_tenant.setdefault(p.order.tenant_id, []).append(p.order)
    for tenant_id, orders in by_tenant.items():
        assert [o.external_id for o in orders] == ["shared-1", "shared-2"]
        numbers = [o.number for o in orders]
        assert numbers == sorted(numbers)
        assert numbers[1] - numbers[0] == 1
        stored = [
            get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=o.id) for o in orders
        ]
        assert [_view(s) for s in stored] == [_view(o) for o in orders]
        assert len({o.customer_id for o in orders}) == 1
    # First tenant: 1 RED at A and none at B, so one unit placed and the rest backordered.
    assert [o.lines[0].allocated for o in by_tenant[first]] == [1, 0]
    assert [o.lines[0].allocated for o in by_tenant[second]] == [2, 2]
    assert by_tenant[first][0].customer_id != by_tenant[second][0].customer_id
    assert _stock(uow_factory, first)["RED"] == (1, 0)
    assert _stock(uow_factory, second)["RED"] == (4, 3)
    _clean(uow_factory, first, second)


def test_orders_too_long_to_store_once_normalised_are_refused_alone_and_the_rest_placed(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """An email grown past its column by lower-casing (as the API lower-cases it), a street
    that grows past it on folding for address matching: each is refused at its field, and
    the group places the others."""
    tenant_id = _new_tenant(uow_factory)
    _world(uow_factory, tenant_id, {"RED": 10})
    grows = order_of(("RED", 1), payment=None, email=("İ" * 320).lower())
    folds = order_of(("RED", 1), payment=None, ship_to=replace(SHIP_TO, line1="\ufdfa" * 30))
    commands = [
        order_of(("RED", 1), payment=None),
        grows,
        order_of(("RED", 1), payment=None),
        folds,
    ]

    outcomes = _group(uow_factory, [_submit(tenant_id, c) for c in commands])

    assert [type(o).__name__ for o in outcomes] == [
        "PlacedOrder",
        "InvalidRequest",
        "PlacedOrder",
        "InvalidRequest",
    ]
    refused = [o for o in outcomes if isinstance(o, InvalidRequest)]
    assert [[e.pointer for e in o.errors] for o in refused] == [
        ["#/customer/email"],
        ["#/shipping_address/line1"],
    ]
    assert _stock(uow_factory, tenant_id)["RED"][0] == 2
    _clean(uow_factory, tenant_id)


def test_an_order_the_database_refuses_in_a_group_write_fails_alone(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: should the group's write still meet a database error, the group
    rolls back and each order is placed alone, so that only the order at fault fails."""
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id = _new_tenant(uow_factory)
    _world(uow_factory, tenant_id, {"RED": 10})
    refusing = refusing_uow_factory(engine)

    plain = order_of(("RED", 1), payment=None)
    commands = [plain, replace(plain, note="refused"), plain, plain]

    outcomes = place_group(
        uow_factory=refusing,
        gateways=gateway_named,
        geocoder=None,
        submissions=[_submit(tenant_id, c) for c in commands],
    )

    assert [type(o).__name__ for o in outcomes] == [
        "PlacedOrder",
        "DataError",
        "PlacedOrder",
        "PlacedOrder",
    ]
    assert _stock(uow_factory, tenant_id)["RED"][0] == 3
    _clean(uow_factory, tenant_id)
    assert [r.message for r in caplog.records if r.name == intake_group.__name__] == [
        "an intake group of 4 met an error writing; each order goes alone"
    ]
    caplog.clear()  # the one fault expected here
